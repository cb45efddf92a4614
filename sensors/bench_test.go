package sensors

import "testing"

func BenchmarkCodec(b *testing.B) {
	r := New("b1-f1-o3-temp", Temperature, 22.4, "b1", "b1-f1-o3", exampleTS)
	raw := []byte(exampleJSON)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		buf := make([]byte, 0, 256)
		for b.Loop() {
			var err error
			if buf, err = r.AppendJSON(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := Decode(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("validate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := r.Validate(exampleTS); err != nil {
				b.Fatal(err)
			}
		}
	})
}
