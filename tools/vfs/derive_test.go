package vfs

import "testing"

func TestPartsJoinBackIntoTheirFile(t *testing.T) {
	w := Declared(10_000_000_007, "", "w").Identified("h", "/m/w")
	var parts []Blob
	for off := int64(0); off < w.Size; off += 3_000_000_000 {
		parts = append(parts, Part(w, off, 3_000_000_000))
	}
	if len(parts) != 4 || parts[3].Size != 1_000_000_007 {
		t.Fatalf("%d parts, last %d bytes", len(parts), parts[3].Size)
	}
	for i, p := range parts {
		if len(p.Carries) != 1 || p.Carries[0].Whole() || p.Carries[0].Path != "/m/w" || p.Carries[0].Off != int64(i)*3_000_000_000 {
			t.Errorf("part %d carries %+v", i, p.Carries)
		}
	}
	if j := Concat(parts...); j.SHA256 != w.SHA256 || j.Size != w.Size {
		t.Errorf("joined %d bytes %s, want the file back", j.Size, j.SHA256)
	}
	if j := Concat(parts[0], parts[2]); j.SHA256 == w.SHA256 || j.Form != nil || len(j.Carries) != 2 {
		t.Errorf("non-adjacent parts joined into %+v", j)
	}
	mid := Concat(parts[1], parts[2])
	if mid.Form == nil || mid.Form.Kind != FormPart || mid.Form.Off != 3_000_000_000 || mid.Size != 6_000_000_000 {
		t.Errorf("adjacent parts: %+v", mid.Form)
	}
	// A part of a part is a part of the file.
	pp := Part(mid, 1_000_000_000, 10)
	if pp.Form.Off != 4_000_000_000 || pp.Carries[0].Off != 4_000_000_000 || pp.Carries[0].Len != 10 {
		t.Errorf("part of a part: %+v %+v", pp.Form, pp.Carries)
	}
}

func TestEncodingsAndArchivesUndo(t *testing.T) {
	w := Declared(3_000_000, "", "w").Identified("h", "/m/w")
	b := Base64(w, 76)
	if b.Size != Base64Size(3_000_000, 76) || b.Size != 4_000_000+52_632 {
		t.Errorf("base64 size %d", b.Size)
	}
	if b.Form.Inner.SHA256 != w.SHA256 || b.Carries[0].Span != b.Size || !b.Carries[0].Whole() {
		t.Errorf("base64 provenance %+v", b.Carries)
	}
	// Half the encoded text holds about half the file.
	half := Part(b, 0, b.Size/2)
	if c := half.Carries[0]; c.Whole() || c.Len < 1_499_000 || c.Len > 1_501_000 {
		t.Errorf("half the encoding carries %+v", c)
	}
	cfg := Content("{}\n")
	ar := Tar([]Member{{Name: "m", Dir: true, Mode: 0o755}, {Name: "m/w", Mode: 0o644, Blob: w}, {Name: "m/c.json", Mode: 0o644, Blob: cfg}})
	if ar.Size%10240 != 0 || ar.Size < w.Size+3*512 {
		t.Errorf("tar size %d", ar.Size)
	}
	if len(ar.Carries) != 1 || ar.Carries[0].At != 1024 {
		t.Errorf("tar carries %+v", ar.Carries)
	}
	z := Gzip(ar, "a.tar")
	if z.Size >= ar.Size || z.Form.Inner.Form.Members[1].Blob.SHA256 != w.SHA256 {
		t.Errorf("gzip %d of %d", z.Size, ar.Size)
	}
	if Tar(ar.Form.Members).SHA256 != ar.SHA256 || Gzip(ar, "a.tar").SHA256 != z.SHA256 {
		t.Error("derived digests are not deterministic")
	}
}

func TestCoverageOfParts(t *testing.T) {
	f, _ := newFS(t, 0)
	w := Declared(100, "", "w").Identified("h", "/m/w")
	_ = f.Mkdir("/p", "u", 0, true)
	for i, name := range []string{"/p/a", "/p/b", "/p/c"} {
		if _, err := f.Write(name, Part(w, int64(i)*40, 40), WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if whole, holders := f.Coverage(w.SHA256, ""); !whole || len(holders) != 3 {
		t.Errorf("coverage %v %v", whole, holders)
	}
	if whole, _ := f.Coverage(w.SHA256, "/p/b"); whole {
		t.Error("coverage without the middle part is whole")
	}
}
