package synth

// Billing invoice numbers are "BL-" and ten base-32 characters that encode a
// bijective scramble of the number's sequence: they look random, so two
// unrelated numbers are never similar enough for the fuzzy pass (the best of
// millions of random pairs scores below 0.88 against the 0.93 threshold),
// and a mistyped number can be decoded to check it is no other invoice's.

const mask50 = 1<<50 - 1

const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ" // Crockford's base 32

const (
	mulA = 0x2545F4914F6CDD1D&mask50 | 1
	mulB = 0x1E3779B97F4A7C15&mask50 | 1
)

var invA, invB = inverse50(mulA), inverse50(mulB)

// inverse50 is m's multiplicative inverse modulo 2^50 (m odd).
func inverse50(m uint64) uint64 {
	x := m
	for i := 0; i < 6; i++ {
		x *= 2 - m*x
	}
	return x & mask50
}

// scramble is a bijection of [0, 2^50).
func scramble(x, key uint64) uint64 {
	x = (x + key) & mask50
	x ^= x >> 25
	x = x * mulA & mask50
	x ^= x >> 25
	x = x * mulB & mask50
	x ^= x >> 25
	return x
}

func unscramble(x, key uint64) uint64 {
	x ^= x >> 25
	x = x * invB & mask50
	x ^= x >> 25
	x = x * invA & mask50
	x ^= x >> 25
	return (x - key) & mask50
}

func encode50(x uint64) string {
	var b [10]byte
	for i := 9; i >= 0; i-- {
		b[i] = alphabet[x&31]
		x >>= 5
	}
	return string(b[:])
}

var alphabetIndex = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = int8(i)
	}
	return t
}()

func decode50(s string) (uint64, bool) {
	if len(s) != 10 {
		return 0, false
	}
	var x uint64
	for i := 0; i < 10; i++ {
		v := alphabetIndex[s[i]]
		if v < 0 {
			return 0, false
		}
		x = x<<5 | uint64(v)
	}
	return x, true
}
