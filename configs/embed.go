package configs

import _ "embed"

// ZedgeYAML is zedge.yaml, the embedded default configuration of the zedge binary. It is a string so that no
// caller can change the defaults of another.
//
//go:embed zedge.yaml
var ZedgeYAML string
