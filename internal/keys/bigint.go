package keys

import (
	"math/big"
	"unicode/utf8"
)

func bigInt(v int) *big.Int { return big.NewInt(int64(v)) }

// decodeRune is utf8.DecodeRuneInString, kept behind a name so the JSON
// writer reads as one loop.
func decodeRune(s string) (rune, int) { return utf8.DecodeRuneInString(s) }
