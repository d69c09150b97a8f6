// Package odoo connects finrecon to Odoo 17, 18 and 19, the system of
// financial record. It reads and it writes, as an integration should:
//
//   - Extract pulls customer invoices and credit notes (account.move),
//     payments (account.payment) and journal items (account.move.line) into
//     a local mirror — all of it the first time, then only what changed
//     since the last pull's write_date watermark — and writes the canonical
//     files (invoices.csv, payments.csv, journal_lines.csv) from the
//     mirror, for the extract package to load like any folder of canonical
//     files.
//   - Post creates an adjustment batch's entries as draft journal entries,
//     idempotently: an entry whose key is already some move's ref is
//     skipped.
//
// The Client speaks JSON-RPC (/jsonrpc, execute_kw) or JSON-2 (/json/2,
// Odoo 19 and later), retries what is transient with backoff, and turns
// Odoo's exceptions into Errors that name the system, the model and the
// method and say what to do. The API key travels as a Secret, which prints
// as REDACTED however it is printed, and every error is scrubbed of it.
//
// Monetary values arrive as JSON floats; they are turned into exact
// decimals from the number's text, rounded to the currency's decimal
// places, and never held in a float64.
//
// The package does not match, report or build adjustments, and it never
// posts a journal entry, nor writes to an existing one.
package odoo
