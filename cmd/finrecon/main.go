// Command finrecon reconciles billing, risk and Odoo data: it extracts
// sources into immutable snapshots, matches them with declarative rules,
// and writes break reports and adjustment batches for Odoo.
package main

import "os"

func main() {
	os.Exit(main1(os.Args[1:], os.Stdout, os.Stderr))
}
