package report

import (
	"fmt"
	"strings"
	"unicode/utf16"
)

// maxSheetName is the longest sheet name Excel accepts, in UTF-16 units.
const maxSheetName = 31

// sheetNames hands out sheet and table names that Excel accepts and that are
// unique in the workbook. Excel compares sheet names without regard to case,
// so uniqueness is checked on the lower-cased name.
type sheetNames struct {
	sheets map[string]bool
	tables map[string]bool
	first  map[string]string // recon -> its first sheet's name
}

func newSheetNames(reserved ...string) *sheetNames {
	n := &sheetNames{sheets: map[string]bool{}, tables: map[string]bool{}, first: map[string]string{}}
	for _, r := range reserved {
		n.sheets[strings.ToLower(r)] = true
	}
	return n
}

// sheet returns the name of part (1, 2, …) of recon's sheets: the recon's
// name made legal, then "<name> (2)", "<name> (3)" for the sheets a large
// recon rolls over to.
func (n *sheetNames) sheet(recon string, part int) string {
	suffix := ""
	if part > 1 {
		suffix = fmt.Sprintf(" (%d)", part)
	}
	// Later parts build on the first part's name, tilde included.
	base, ok := n.first[recon]
	if !ok {
		base = legalSheetName(recon)
	}
	name := fit(base, suffix)
	// Two recons whose legal names collide (or a recon called "Summary")
	// get a tilde and a number, kept within the length limit.
	for i := 2; n.sheets[strings.ToLower(name)]; i++ {
		name = fit(base, fmt.Sprintf("~%d", i)+suffix)
	}
	n.sheets[strings.ToLower(name)] = true
	if !ok {
		n.first[recon] = name
	}
	return name
}

// legalSheetName replaces what Excel forbids in a sheet name: the characters
// : \ / ? * [ ], a quote at either end, and an empty name; Excel also
// reserves "History".
func legalSheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) || r < 0x20 {
			return '_'
		}
		return r
	}, s)
	s = strings.Trim(s, "'")
	if s == "" || strings.EqualFold(s, "History") {
		s = "_" + s
	}
	return s
}

// table returns a table name for sheet: Excel table names hold letters,
// digits and underscores, start with a letter, and are unique in the workbook.
func (n *sheetNames) table(sheet string) string {
	var b strings.Builder
	b.WriteString("Breaks_")
	for _, r := range sheet {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := b.String()
	for i := 2; n.tables[strings.ToLower(name)]; i++ {
		name = fmt.Sprintf("%s_%d", b.String(), i)
	}
	n.tables[strings.ToLower(name)] = true
	return name
}

// fit cuts base so that base+suffix fits in a sheet name; a cut that ends in
// a quote loses it, as a sheet name cannot end with one.
func fit(base, suffix string) string {
	cut := cutUTF16(base, maxSheetName-utf16Len(suffix))
	if suffix == "" {
		cut = strings.TrimRight(cut, "'")
		if cut == "" {
			cut = "_"
		}
	}
	return cut + suffix
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// cutUTF16 returns the longest prefix of s of at most max UTF-16 units that
// does not split a character.
func cutUTF16(s string, max int) string {
	n := 0
	for i, r := range s {
		if n+utf16.RuneLen(r) > max {
			return s[:i]
		}
		n += utf16.RuneLen(r)
	}
	return s
}
