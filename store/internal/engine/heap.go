package engine

// expiryHeap is a min-heap of messages by expiry. Each message knows its index, so a changed expiry is fixed
// and a deleted message removed in O(log n).
type expiryHeap []*Msg

func (h *expiryHeap) push(m *Msg) {
	m.heapIdx = int32(len(*h))
	*h = append(*h, m)
	h.up(len(*h) - 1)
}

// min returns the message that expires first, or nil.
func (h expiryHeap) min() *Msg {
	if len(h) == 0 {
		return nil
	}
	return h[0]
}

func (h *expiryHeap) remove(m *Msg) {
	i := int(m.heapIdx)
	if i < 0 || i >= len(*h) || (*h)[i] != m {
		return
	}
	last := len(*h) - 1
	if i != last {
		h.swap(i, last)
	}
	(*h)[last] = nil
	*h = (*h)[:last]
	m.heapIdx = -1
	if i != last {
		if !h.down(i) {
			h.up(i)
		}
	}
}

// fix restores the order after m's expiry changed.
func (h *expiryHeap) fix(m *Msg) {
	i := int(m.heapIdx)
	if i < 0 || i >= len(*h) || (*h)[i] != m {
		return
	}
	if !h.down(i) {
		h.up(i)
	}
}

func (h expiryHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = int32(i)
	h[j].heapIdx = int32(j)
}

func (h expiryHeap) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if h[i].Expires <= h[j].Expires {
			break
		}
		h.swap(i, j)
		j = i
	}
}

func (h expiryHeap) down(i0 int) bool {
	i, n := i0, len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && h[r].Expires < h[l].Expires {
			j = r
		}
		if h[i].Expires <= h[j].Expires {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > i0
}
