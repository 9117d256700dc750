package scenario

import "testing"

func BenchmarkParseBlackmail(b *testing.B) {
	data, err := Builtin("blackmail")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Parse(data, "builtin:blackmail"); err != nil {
			b.Fatal(err)
		}
	}
}
