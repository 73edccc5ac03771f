package handlers

// rowsBlock is a table's rows as one plain value, so the partial cache
// serves the whole tbody with one lookup rather than one per row: the
// partner console's page of a client user shows up to a dozen, and the
// per-row template calls were a fifth of its cost. Pages with more rows
// than fit render row by row.
type rowsBlock struct {
	N    int
	Rows [maxBlockRows]sessionRow
}

const maxBlockRows = 12

// HasBlock reports whether the page's rows fit in a rowsBlock.
func (p *userSessionsPage) HasBlock() bool { return len(p.Rows) <= maxBlockRows }

// Block is the page's rows as a rowsBlock; HasBlock says whether they fit.
func (p *userSessionsPage) Block() rowsBlock {
	var b rowsBlock
	b.N = copy(b.Rows[:], p.Rows)
	return b
}

// HasBlock is false for Active Sessions: its rows render one by one, each
// cached, since a customer's list changes a row at a time.
func (l *sessionList) HasBlock() bool { return false }

// Block is never used for Active Sessions (see HasBlock).
func (l *sessionList) Block() rowsBlock { return rowsBlock{} }
