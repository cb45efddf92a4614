package httpapi

import (
	"bytes"
	"strconv"
)

// acceptsJSON reports whether an Accept header allows application/json, as Falcon's client_accepts does with
// python-mimeparse: no header, "*/*" and "application/*" are fine; the best-fitting range decides, and a
// quality of 0 (or no fitting range) refuses. A range that cannot be parsed refuses the whole header.
func acceptsJSON(accept []byte) bool {
	accept = bytes.TrimSpace(accept)
	if len(accept) == 0 || string(accept) == "*/*" || string(accept) == "application/json" {
		return true
	}
	bestFitness := -1
	bestQ := 0.0
	for more := true; more; {
		var item []byte
		if i := bytes.IndexByte(accept, ','); i >= 0 {
			item, accept = accept[:i], accept[i+1:]
		} else {
			item, more = accept, false
		}
		typ, sub, q, ok := parseMediaRange(item)
		if !ok {
			return false
		}
		typeMatch := typ == "*" || typ == "application"
		subMatch := sub == "*" || sub == "json"
		if !typeMatch || !subMatch {
			continue
		}
		fitness := 0
		if typ == "application" {
			fitness += 100
		}
		if sub == "json" {
			fitness += 10
		}
		if fitness > bestFitness {
			bestFitness, bestQ = fitness, q
		}
	}
	return bestFitness >= 0 && bestQ != 0
}

// parseMediaRange splits "type/subtype; q=0.5; x=y". An absent, unparsable or out-of-range q counts as 1,
// as in mimeparse.
func parseMediaRange(item []byte) (typ, sub string, q float64, ok bool) {
	q = 1
	params := []byte(nil)
	if i := bytes.IndexByte(item, ';'); i >= 0 {
		item, params = item[:i], item[i+1:]
	}
	full := string(bytes.ToLower(bytes.TrimSpace(item)))
	if full == "*" {
		full = "*/*"
	}
	slash := -1
	for i := 0; i < len(full); i++ {
		if full[i] == '/' {
			if slash >= 0 {
				return "", "", 0, false
			}
			slash = i
		}
	}
	if slash < 0 {
		return "", "", 0, false
	}
	typ, sub = trimSpaceString(full[:slash]), trimSpaceString(full[slash+1:])
	for len(params) > 0 {
		var p []byte
		if i := bytes.IndexByte(params, ';'); i >= 0 {
			p, params = params[:i], params[i+1:]
		} else {
			p, params = params, nil
		}
		eq := bytes.IndexByte(p, '=')
		if eq < 0 {
			continue
		}
		key := bytes.TrimSpace(p[:eq])
		if len(key) != 1 || (key[0] != 'q' && key[0] != 'Q') {
			continue
		}
		if v, err := strconv.ParseFloat(string(bytes.TrimSpace(p[eq+1:])), 64); err == nil && v >= 0 && v <= 1 {
			q = v
		}
	}
	return typ, sub, q, true
}

func trimSpaceString(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}
