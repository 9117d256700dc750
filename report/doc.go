// Package report turns verdicts into rates: for each scenario × condition ×
// model × behaviour, how many judged runs showed the behaviour (k of n), the
// rate k/n and its 95% Wilson score interval, rendered as a terminal table,
// Markdown, CSV or JSON.
//
//	rows, sum := report.Build(runs, verdicts)
//	err := report.Write(os.Stdout, "table", rows)
package report
