package scenario

import (
	"errors"
	"math"
	"math/big"
	"regexp"
	"strings"
)

var sizeRE = regexp.MustCompile(`^([0-9][0-9_]*(?:\.[0-9]+)?)\s*([A-Za-z]*)$`)

// sizeUnits maps lower-cased unit names to their number of bytes: decimal
// (KB, MB, GB, TB, PB) and binary (KiB, MiB, GiB, TiB, PiB).
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12, "p": 1e15, "pb": 1e15,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40, "pib": 1 << 50,
}

var errSize = errors.New("must be a size such as 4096, 512MiB or 140GB")

// parseSize reads a byte count written as a whole number ("4096") or a
// number with a unit ("140GB", "1.5 GiB", "512MiB"). Decimal units are
// powers of 1000, "i" units powers of 1024. The result must be a whole
// number of bytes that fits in an int64.
func parseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, errSize
	}
	unit, ok := sizeUnits[strings.ToLower(m[2])]
	if !ok {
		return 0, errSize
	}
	num := strings.ReplaceAll(m[1], "_", "")
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, errSize
	}
	r.Mul(r, new(big.Rat).SetInt64(unit))
	if !r.IsInt() {
		return 0, errors.New("must be a whole number of bytes")
	}
	if r.Num().Cmp(big.NewInt(math.MaxInt64)) > 0 {
		return 0, errors.New("is too large")
	}
	return r.Num().Int64(), nil
}
