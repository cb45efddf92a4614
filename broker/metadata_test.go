package broker

import (
	"encoding/json"
	"testing"
)

func TestMetadataAppendJSON(t *testing.T) {
	md := Metadata{"b": json.RawMessage(`{"x": [1, 2]}`), "a": json.RawMessage(`"é"`), "_ttl": json.RawMessage(`60`), "gone": nil}
	want := `{"_ttl": 60, "a": "é", "b": {"x": [1, 2]}, "gone": null}`
	if got := string(md.AppendJSON(nil)); got != want {
		t.Errorf("AppendJSON = %s, want %s", got, want)
	}
	if got := string(Metadata{}.AppendJSON([]byte("x"))); got != "x{}" {
		t.Errorf("empty = %s", got)
	}
}
