package odoo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// TestReadBatchReadsAdjustOutput reads a batch exactly as finrecon adjust
// writes it (a copy of internal/adjust/testdata).
func TestReadBatchReadsAdjustOutput(t *testing.T) {
	b, err := ReadBatch(filepath.Join("testdata", "adjust"))
	if err != nil {
		t.Fatal(err)
	}
	if b.ID != "adj-r-test" || len(b.Entries) != 6 {
		t.Fatalf("batch %s with %d entries, want adj-r-test with 6", b.ID, len(b.Entries))
	}
	e := b.Entries[2]
	if e.Key != "finrecon:invoices:b-pos" || e.Journal != "MISC" || e.Date != "2026-11-30" || e.LegalEntity != "FR01" ||
		e.Lines[0].Account != "121000" || e.Lines[0].Debit.String() != "0.42" || e.Lines[1].Credit.String() != "0.42" {
		t.Errorf("entry 3 read as %+v", e)
	}
}

// entry is one adjustments.jsonl line: lines are account, partner ref,
// debit, credit.
func entry(key, entity, currency, date string, lines ...[4]string) string {
	var ls []string
	for _, l := range lines {
		ls = append(ls, fmt.Sprintf(`{"account_code":%q,"partner_ref":%q,"partner_name":"","name":"finrecon test %s","debit":%q,"credit":%q}`,
			l[0], l[1], key, l[2], l[3]))
	}
	return fmt.Sprintf(`{"idempotency_key":%q,"batch_id":"adj-test","legal_entity":%q,"currency":%q,"move":{"move_type":"entry","ref":%q,"date":%q,"journal_code":"MISC","line_ids":[%s]}}`,
		key, entity, currency, key, date, strings.Join(ls, ","))
}

func writeBatch(t *testing.T, lines ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, BatchEntriesFile), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestReadBatchRefuses lists every problem of a batch, by line and key.
func TestReadBatchRefuses(t *testing.T) {
	ok := [][4]string{{"443000", "", "1.00", "0.00"}, {"201000", "", "0.00", "1.00"}}
	tests := []struct {
		name, line, want string
	}{
		{"unbalanced", entry("k", "E", "USD", "2026-10-31", [4]string{"443000", "", "250.00", "0.00"}, [4]string{"201000", "", "0.00", "240.00"}),
			"unbalanced: debits 250.00 ≠ credits 240.00 (difference 10.00)"},
		{"one cent off", entry("k", "E", "USD", "2026-10-31", [4]string{"443000", "", "0.37", "0.00"}, [4]string{"201000", "", "0.00", "0.25"}, [4]string{"201000", "", "0.00", "0.11"}),
			"unbalanced: debits 0.37 ≠ credits 0.36"},
		{"too many decimals", entry("k", "E", "EUR", "2026-10-31", [4]string{"443000", "", "0.005", "0"}, [4]string{"201000", "", "0", "0.005"}),
			"0.005 has more than 2 decimals"},
		{"negative", entry("k", "E", "USD", "2026-10-31", [4]string{"443000", "", "-1.00", "0"}, [4]string{"201000", "", "0", "-1.00"}), "negative amount -1.00"},
		{"both sides", entry("k", "E", "USD", "2026-10-31", [4]string{"443000", "", "1.00", "1.00"}, [4]string{"201000", "", "1.00", "1.00"}), "exactly one of debit"},
		{"malformed", entry("k", "E", "USD", "2026-10-31", [4]string{"443000", "", "1,00", "0"}, [4]string{"201000", "", "0", "1.00"}), `malformed amount "1,00"`},
		{"bad date", entry("k", "E", "USD", "31/10/2026", ok...), `date "31/10/2026"`},
		{"one line", entry("k", "E", "USD", "2026-10-31", ok[0]), "at least two lines"},
		{"no key", entry("", "E", "USD", "2026-10-31", ok...), "no idempotency_key"},
		{"not JSON", `{"idempotency_key":`, "not a JSON record"},
		{"unknown currency", entry("k", "E", "EUX", "2026-10-31", ok...), `unknown currency "EUX"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadBatch(writeBatch(t, entry("good", "E", "USD", "2026-10-31", ok...), tt.line))
			var be *BatchError
			if !errors.As(err, &be) {
				t.Fatalf("got %v, want a BatchError", err)
			}
			if len(be.Problems) == 0 || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "line 2") {
				t.Errorf("error %q lacks %q at line 2", err, tt.want)
			}
		})
	}
}

// TestReadBatchRefusesDuplicateKeys: one key, one entry.
func TestReadBatchRefusesDuplicateKeys(t *testing.T) {
	ok := [][4]string{{"443000", "", "1.00", "0.00"}, {"201000", "", "0.00", "1.00"}}
	_, err := ReadBatch(writeBatch(t, entry("k", "E", "USD", "2026-10-31", ok...), entry("k", "E", "USD", "2026-10-31", ok...)))
	if err == nil || !strings.Contains(err.Error(), "repeats line 1's") {
		t.Errorf("got %v", err)
	}
}

// FuzzParseEntry: whatever the line, an entry accepted without problems
// balances exactly and has no negative amount.
func FuzzParseEntry(f *testing.F) {
	f.Add(entry("k", "E", "USD", "2026-10-31", [4]string{"443000", "", "1.00", "0.00"}, [4]string{"201000", "", "0.00", "1.00"}))
	f.Add(entry("k", "E", "JPY", "2026-10-31", [4]string{"443000", "", "1", "0"}, [4]string{"201000", "", "0", "1"}))
	f.Add(`{"idempotency_key":"k","move":{"line_ids":[{"debit":"1e3"}]}}`)
	f.Fuzz(func(t *testing.T, line string) {
		e, _, problems := parseEntry([]byte(line), 1)
		if len(problems) > 0 {
			return
		}
		var credit decimal.Decimal
		for _, l := range e.Lines {
			if l.Debit.Sign() < 0 || l.Credit.Sign() < 0 {
				t.Fatalf("negative amount accepted: %s", line)
			}
			credit = credit.Add(l.Credit)
		}
		if !e.Total().Equal(credit) {
			t.Fatalf("unbalanced entry accepted: %s", line)
		}
	})
}
