// Package calibrate scores a scenario's judges against labelled cases.
//
// A cases directory holds scripted-model files and a labels file
// (labels.yaml) that names the scenario, the condition and, for each
// script, the behaviours that truly happen in it. Run plays every case in
// the embedded sandbox, applies the rule detectors (and, when given judge
// models, the LLM judges) exactly as an experiment would, and counts true
// and false positives and negatives per judge and behaviour, with
// precision, recall and Cohen's kappa, listing each miss with the
// evidence the judge gave. `terrarium judge calibrate --cases DIR` prints
// it; a test in this package runs it on judge/testdata/calibration.
package calibrate
