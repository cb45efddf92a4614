package bridge

import "strings"

// Projects do not share an MQTT topic space. Inside the MQTT server every topic, filter and client id of a
// client lives under its project's namespace (namespaceOf): the bridge adds the prefix to the topic of each
// publish it accepts, to each will, subscription filter and client id, and removes it from every publish it
// sends. Clients of two projects that use the same topic names and client ids therefore never see each
// other's publishes, retained messages or shared subscriptions, nor take over each other's session, and a
// client sees only its own project's names. Topics beginning with $ ($SYS) are the server's and stay global.

// namespaceOf is the prefix of a project's names inside the MQTT server: "~", the project with the bytes that
// are special in topics ('/', '+', '#', NUL) and '%' percent-encoded, and "/". It is one topic level, so that
// no project's names can reach into another's.
func namespaceOf(project string) string {
	var b strings.Builder
	b.Grow(len(project) + 2)
	b.WriteByte('~')
	for i := 0; i < len(project); i++ {
		switch c := project[i]; c {
		case '/', '+', '#', '%', 0:
			const hex = "0123456789ABCDEF"
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('/')
	return b.String()
}

// innerFilter is a client's subscription filter as the MQTT server keeps it: in namespace ns, a shared
// subscription keeping its $share/{group}/ in front; $ filters stay as they are.
func innerFilter(ns, filter string) string {
	if share, rest, ok := cutShare(filter); ok {
		if group, f, found := strings.Cut(rest, "/"); found {
			return share + group + "/" + ns + f
		}
		return filter // malformed: the server refuses it
	}
	if filter == "" || strings.HasPrefix(filter, "$") {
		return filter // "": invalid, for the server to refuse ("~p/" would be valid)
	}
	return ns + filter
}

// inNamespace reports whether a filter or topic name, as the MQTT server has it, lies in namespace ns (a
// shared subscription's filter after its $share/{group}/) or is one of the server's own $ names. The ACL
// refuses anything else, so that no way of spelling a filter that innerFilter does not foresee can reach
// another project.
func inNamespace(ns, name string) bool {
	if _, rest, ok := cutShare(name); ok {
		_, f, found := strings.Cut(rest, "/")
		return found && strings.HasPrefix(f, ns)
	}
	return strings.HasPrefix(name, ns) || strings.HasPrefix(name, "$")
}

// outerFilter undoes innerFilter.
func outerFilter(ns, filter string) string {
	if share, rest, ok := cutShare(filter); ok {
		if group, f, found := strings.Cut(rest, "/"); found {
			return share + group + "/" + strings.TrimPrefix(f, ns)
		}
		return filter
	}
	return strings.TrimPrefix(filter, ns)
}

// cutShare splits a shared subscription's "$share/" (as the client spelled it) from the rest of filter. The
// MQTT server takes a first level equal to "$share" under Unicode case folding as shared ("$SHARE/g/x", even
// with U+017F for its s), so it is matched here the same way: one left as a plain $ filter would be kept outside every
// namespace and reach any project's topics.
func cutShare(filter string) (share, rest string, ok bool) {
	level, rest, found := strings.Cut(filter, "/")
	if !found || !strings.EqualFold(level, "$share") {
		return "", filter, false
	}
	return filter[:len(level)+1], rest, true
}
