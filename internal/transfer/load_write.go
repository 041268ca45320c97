package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"

	"musicadmin/internal/audit"
	"musicadmin/internal/datamodel"
)

// loadBatch is how many catalogue records are written per transaction
// where the store offers one (batchCreator).
const loadBatch = 500

// batchCreator is a model that writes many records at once, all or none
// (store.Model's CreateBatch, one transaction; mongostore.Model's, one
// insertMany undone on failure): a commit per record is most of what a
// load through Create costs on an SQL server, and Create's three round
// trips per record on MongoDB.
type batchCreator interface {
	CreateBatch(ctx context.Context, vs []datamodel.Values) ([]string, error)
}

// write reads the checked file again and writes its records.
func (l *loader) write(ctx context.Context, r io.Reader, total int, progress Progress) (Counts, error) {
	w := newWriting(ctx, l, total, progress)
	err := l.lines(r, w.line)
	if err == nil {
		err = w.flushRecords()
	}
	if err == nil {
		err = w.flushEntries()
	}
	var le *LineError
	if errors.As(err, &le) {
		// Checked, then unreadable: the file changed in between.
		return w.counts, fmt.Errorf("load: the file changed since it was checked: %w; the %d records before it are written and stay",
			err, w.counts.Total())
	}
	return w.counts, err
}

// idMap maps source ids to the new ids of their records: model -> source
// id -> new id.
type idMap map[string]map[string]string

// writing is the second pass under way: what it has written, and what it
// holds to write in one go.
type writing struct {
	// ctx is write's: a writing lives for one call of it.
	ctx      context.Context
	l        *loader
	total    int
	progress Progress
	// newIDs holds the records of referenced or cited models written so
	// far.
	newIDs idMap
	counts Counts
	// records are catalogue records of one model not written yet, for
	// its CreateBatch.
	records pending
	// entries are the audit entries not written yet, their ids mapped
	// (mapEntry), for ImportEntries.
	entries pending
}

// pending are records read and not written yet, with their lines.
type pending struct {
	items []item
	lines []int
}

func (p *pending) add(n int, it item) {
	p.items, p.lines = append(p.items, it), append(p.lines, n)
}

func (p *pending) clear() { p.items, p.lines = p.items[:0], p.lines[:0] }

func newWriting(ctx context.Context, l *loader, total int, progress Progress) *writing {
	newIDs := idMap{}
	for model := range l.referenced {
		newIDs[model] = map[string]string{}
	}
	for model := range l.cited {
		newIDs[model] = map[string]string{}
	}
	return &writing{ctx: ctx, l: l, total: total, progress: progress, newIDs: newIDs}
}

// line takes the record of line n: it holds it for a batch, or writes
// it alone.
func (w *writing) line(n int, it item) error {
	if held := w.records.items; len(held) > 0 && (it.m != held[0].m || w.l.refersToBatch(it, w.newIDs)) {
		if err := w.flushRecords(); err != nil {
			return err
		}
	}
	if it.model == modelAudit {
		it.entry = w.l.mapEntry(it.entry, w.newIDs)
		w.entries.add(n, it)
		if len(w.entries.items) == loadBatch {
			return w.flushEntries()
		}
		return nil
	}
	if _, ok := it.m.(batchCreator); ok {
		w.records.add(n, it)
		if len(w.records.items) == loadBatch {
			return w.flushRecords()
		}
		return nil
	}
	id, err := w.l.writeItem(w.ctx, it, w.newIDs)
	if err != nil {
		return w.failed(n, it, err)
	}
	w.written(it, id)
	return nil
}

// flushRecords writes the catalogue records held, all or none.
func (w *writing) flushRecords() error {
	batch := w.records.items
	if len(batch) == 0 {
		return nil
	}
	vs := make([]datamodel.Values, len(batch))
	for i, it := range batch {
		vs[i] = w.l.mapRefs(it, w.newIDs)
	}
	ids, err := batch[0].m.(batchCreator).CreateBatch(w.ctx, vs)
	if err != nil {
		// The batch is rolled back: the records before it stay.
		i := 0
		var be *datamodel.BatchError
		if errors.As(err, &be) {
			i = be.Index
		}
		return w.failed(w.records.lines[i], batch[i], err)
	}
	for i, it := range batch {
		w.written(it, ids[i])
	}
	w.records.clear()
	return nil
}

// flushEntries writes the audit entries held: on error, those before the
// one that failed stay written.
func (w *writing) flushEntries() error {
	held := w.entries.items
	if len(held) == 0 {
		return nil
	}
	entries := make([]audit.Entry, len(held))
	for i, it := range held {
		entries[i] = it.entry
	}
	n, err := w.l.log.ImportEntries(w.ctx, entries)
	if err != nil {
		n = min(n, len(entries)-1)
	}
	for _, it := range held[:n] {
		w.written(it, "")
	}
	if err != nil {
		return w.failed(w.entries.lines[n], held[n], err)
	}
	w.entries.clear()
	return nil
}

// written counts a record written with new id id, and remembers the id
// should a later line name the record.
func (w *writing) written(it item, id string) {
	if w.l.referenced[it.model] || w.l.cited[it.model][it.id] {
		w.newIDs[it.model][it.id] = id
	}
	w.counts.add(it.model)
	w.progress("load", w.counts.Total(), w.total)
}

// failed is the error of the record of line n, which could not be
// written: it says what was written before it and stays.
func (w *writing) failed(n int, it item, err error) error {
	return fmt.Errorf("load: line %d: %s %s: %w; the %d records before it are written and stay: "+
		"empty the database (drop it, then create-db) before loading again", n, it.model, it.id, err, w.counts.Total())
}

// refersToBatch reports whether it refers to a record not written yet: one
// of the batch, which must be written first.
func (l *loader) refersToBatch(it item, newIDs idMap) bool {
	if it.m == nil {
		return false
	}
	for _, f := range it.m.Schema().Fields {
		if t := f.Target(); t != "" {
			if ref, _ := it.values[f.Name].(*datamodel.Ref); ref != nil {
				if _, written := newIDs[lineModel(t)][ref.ID]; !written {
					return true
				}
			}
		}
	}
	return false
}

// mapRefs returns the values of a catalogue record with its references
// turned into the new ids of the records they point at.
func (l *loader) mapRefs(it item, newIDs idMap) datamodel.Values {
	for _, f := range it.m.Schema().Fields {
		if t := f.Target(); t != "" {
			if ref, _ := it.values[f.Name].(*datamodel.Ref); ref != nil {
				it.values[f.Name] = &datamodel.Ref{ID: newIDs[lineModel(t)][ref.ID]}
			}
		}
	}
	return it.values
}

// writeItem writes one record, its references mapped to new ids, and
// returns its new id.
func (l *loader) writeItem(ctx context.Context, it item, newIDs idMap) (string, error) {
	switch it.model {
	case modelRole:
		return l.writeRole(ctx, it)
	case modelUser:
		return l.writeUser(ctx, it, newIDs)
	}
	return it.m.Create(ctx, l.mapRefs(it, newIDs))
}
