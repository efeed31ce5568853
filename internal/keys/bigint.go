package keys

import "unicode/utf8"

// decodeRune is utf8.DecodeRuneInString, kept behind a name so the JSON
// writer reads as one loop.
func decodeRune(s string) (rune, int) { return utf8.DecodeRuneInString(s) }
