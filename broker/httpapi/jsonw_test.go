package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDocuments(t *testing.T) {
	var versions map[string]any
	if err := json.Unmarshal(versionsDocument(), &versions); err != nil {
		t.Fatalf("versions document: %v", err)
	}
	want := `{"versions": [{"id": "1", "status": "DEPRECATED", "updated": "2014-9-11T17:47:05Z", "media-types": ` +
		`[{"base": "application/json", "type": "application/vnd.openstack.messaging-v1+json"}], "links": [{"href": "/v1/", "rel": "self"}]}, `
	if !strings.HasPrefix(string(versionsDocument()), want) {
		t.Errorf("versions document starts %s", versionsDocument()[:200])
	}

	home := string(homeDocument(false))
	// Python's json.dumps(indent=4): 4-space indent, "," at line ends, ": " after keys, {} for empty objects.
	wantStart := "{\n    \"resources\": {\n        \"rel/queues\": {\n            \"href-template\": \"/v2/queues{?marker,limit,detailed}\",\n" +
		"            \"href-vars\": {\n                \"marker\": \"param/marker\",\n"
	if !strings.HasPrefix(home, wantStart) {
		t.Errorf("home document starts:\n%s", home[:300])
	}
	if !strings.Contains(home, "\"allow\": [\n                    \"GET\"\n                ],\n                \"formats\": {\n                    \"application/json\": {}\n                }") {
		t.Errorf("home document hints are not Python-indented:\n%s", home[:800])
	}
	var doc struct {
		Resources map[string]map[string]any `json:"resources"`
	}
	if err := json.Unmarshal([]byte(home), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Resources) != 19 || doc.Resources["rel/health"] != nil {
		t.Errorf("home document has %d resources", len(doc.Resources))
	}
	if err := json.Unmarshal(homeDocument(true), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Resources) != 24 || doc.Resources["rel/health"]["href"] != "/v2/health" {
		t.Errorf("admin home document: %d resources, health %v", len(doc.Resources), doc.Resources["rel/health"])
	}
}
