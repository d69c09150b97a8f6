package synth

// jaroWinkler is DuckDB's jaro_winkler_similarity on ASCII strings: Jaro
// similarity with the match window max(len)/2-1, plus the Winkler boost of
// 0.1 per common prefix character (at most 4) when the Jaro similarity is
// above 0.7. The generator uses it to check that no two open references of
// one partner are similar enough for the fuzzy pass unless planted.
func jaroWinkler(a, b string) float64 {
	j := jaro(a, b)
	if j <= 0.7 {
		return j
	}
	prefix := 0
	for prefix < 4 && prefix < len(a) && prefix < len(b) && a[prefix] == b[prefix] {
		prefix++
	}
	return j + float64(prefix)*0.1*(1-j)
}

func jaro(a, b string) float64 {
	la, lb := len(a), len(b)
	if la == 0 && lb == 0 {
		return 1
	}
	if la == 0 || lb == 0 {
		return 0
	}
	window := max(la, lb)/2 - 1
	if window < 0 {
		window = 0
	}
	var amBuf, bmBuf [64]bool
	am, bm := amBuf[:0], bmBuf[:0]
	if la > len(amBuf) || lb > len(bmBuf) {
		am, bm = make([]bool, la), make([]bool, lb)
	} else {
		am, bm = amBuf[:la], bmBuf[:lb]
	}
	m := 0
	for i := 0; i < la; i++ {
		lo, hi := max(0, i-window), min(lb-1, i+window)
		for k := lo; k <= hi; k++ {
			if !bm[k] && a[i] == b[k] {
				am[i], bm[k] = true, true
				m++
				break
			}
		}
	}
	if m == 0 {
		return 0
	}
	t, k := 0, 0
	for i := 0; i < la; i++ {
		if !am[i] {
			continue
		}
		for !bm[k] {
			k++
		}
		if a[i] != b[k] {
			t++
		}
		k++
	}
	mf := float64(m)
	return (mf/float64(la) + mf/float64(lb) + (mf-float64(t/2))/mf) / 3
}
