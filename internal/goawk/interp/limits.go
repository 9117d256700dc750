package interp

import "errors"

// This file is Terrarium's addition to goawk: the limits that keep one awk
// program from taking all of a process's memory. goawk checks its
// context only every 1,000 instructions, and a program that doubles a
// string reaches gigabytes in forty.

// MaxString is the longest string a program may build by concatenation,
// sub and gsub, or a printf width; past it the program fails with
// ErrMemory, as awk would be killed for running out of memory. It keeps a
// gsub that doubles a string within seconds, too.
var MaxString = 16 << 20

// MaxElements is how many array elements a program may create in all.
var MaxElements = 1_000_000

// ErrMemory ends a program that went past MaxString or MaxElements.
var ErrMemory = errors.New("out of memory")

// formatWidth is the largest width or precision in a Go format string.
func formatWidth(format string) int {
	widest := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		for i++; i < len(format); i++ {
			c := format[i]
			switch {
			case c >= '0' && c <= '9':
				n := 0
				for ; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
					if n < 1<<40 {
						n = n*10 + int(format[i]-'0')
					}
				}
				i--
				widest = max(widest, n)
				continue
			case c == '-' || c == '+' || c == ' ' || c == '#' || c == '.':
				continue
			}
			break
		}
	}
	return widest
}

// checkElements fails once the program's arrays hold more than
// MaxElements in all. It runs with the context checks: between two, a
// program creates a thousand elements at most (split is checked itself).
func (p *interp) checkElements() error {
	n := 0
	for _, a := range p.arrays {
		n += len(a)
	}
	if n > MaxElements {
		return ErrMemory
	}
	return nil
}
