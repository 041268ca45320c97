package mongostore

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"musicadmin/internal/datamodel"
)

// anchor is where a page is read from: skip documents after the start (or
// after a bookmark), walking the list's order or, backward, its reverse.
type anchor struct {
	skip     int64
	backward bool
	from     *mark
}

// mark is a bookmark: the document at position pos of a list (0-based), by
// its sort key (its _id when sorted by _id) and _id.
type mark struct {
	pos int64
	key any
	id  bson.ObjectID
}

// rangeable reports whether a sort's key always holds a value of one type,
// so that a range from a bookmark's key matches every later document.
func rangeable(f *datamodel.Field) bool {
	if f == nil {
		return true
	}
	if _, isInt := f.Kind.(datamodel.Int); isInt {
		return true // always written, as a number
	}
	return f.Required && f.Target() == ""
}

// after is the condition "after mk" in the order of f, descending or not.
func after(f *datamodel.Field, mk *mark, desc bool) bson.D {
	op := "$gt"
	if desc {
		op = "$lt"
	}
	if f == nil {
		return bson.D{{Key: "_id", Value: bson.D{{Key: op, Value: mk.id}}}}
	}
	if !tiebreak(f) {
		return bson.D{{Key: f.Name, Value: bson.D{{Key: op, Value: mk.key}}}}
	}
	// key > k OR (key = k AND _id > id), spelled so that its first term
	// alone, key >= k, bounds the scan of the (key, _id) index: the planner
	// draws no bounds from an $or at the top.
	return bson.D{{Key: "$and", Value: bson.A{
		bson.D{{Key: f.Name, Value: bson.D{{Key: op + "e", Value: mk.key}}}},
		bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: f.Name, Value: bson.D{{Key: op, Value: mk.key}}}},
			bson.D{{Key: "_id", Value: bson.D{{Key: op, Value: mk.id}}}},
		}}},
	}}}
}

// markKey names a list: its filter, sort and direction.
func markKey(filter bson.D, sort *datamodel.Field, desc bool) string {
	b, err := bson.MarshalExtJSON(filter, true, false)
	if err != nil {
		return "" // an unnamed list keeps no bookmarks
	}
	name := "_id"
	if sort != nil {
		name = sort.Name
	}
	return fmt.Sprintf("%s|%s|%v", b, name, desc)
}

// markTTL is how long bookmarks are trusted when another process may have
// written; this process's own writes drop them at once.
const markTTL = 10 * time.Second

// Bookmark bounds per model: lists remembered, and marks per list.
const (
	maxMarkLists = 256
	maxMarks     = 64
)

// invalidateMarks drops every bookmark of the store. Writers call it before
// and after the write, so no mark taken while it was in flight survives it.
func (s *Store) invalidateMarks() { s.markEpoch.Add(1) }

// markCache keeps the bookmarks of one model's lists.
type markCache struct {
	// epoch is the store's write counter: bumped by every write of this
	// process to any model of the store, as a write to one collection can
	// move another's positions (deleting an album clears the album of its
	// songs). Bookmarks are good only in their epoch.
	epoch *atomic.Int64
	mu    sync.Mutex
	lists map[string]*markList
}

type markList struct {
	epoch int64
	at    time.Time
	marks []mark
}

func (c *markCache) get(key string) []mark {
	if key == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.lists[key]
	if l == nil || l.epoch != c.epoch.Load() || time.Since(l.at) >= markTTL {
		return nil
	}
	return slices.Clone(l.marks)
}

// add remembers marks read in epoch, unless a write has happened since.
// A mark whose key is not a string or a number (a document written by
// hand without the field) is not kept: no range can start from it.
func (c *markCache) add(key string, epoch int64, marks ...mark) {
	marks = slices.DeleteFunc(marks, func(mk mark) bool {
		switch mk.key.(type) {
		case bson.ObjectID, string, int32, int64:
			return false
		}
		return true
	})
	if key == "" || len(marks) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch.Load() {
		return
	}
	if c.lists == nil || len(c.lists) >= maxMarkLists {
		c.lists = make(map[string]*markList)
	}
	l := c.lists[key]
	if l == nil || l.epoch != epoch || time.Since(l.at) >= markTTL || len(l.marks)+len(marks) > maxMarks {
		// The list's age counts from its first mark: its positions are only
		// as fresh as the oldest.
		l = &markList{epoch: epoch, at: time.Now()}
		c.lists[key] = l
	}
	l.marks = append(l.marks, marks...)
}

// fromNearestMark returns plan, or a read from one of marks (the list's
// bookmarks) when that skips fewer documents: forward from a mark before
// the page, or backward from one after it.
func fromNearestMark(plan anchor, marks []mark, offset, limit int64) anchor {
	for _, mk := range marks {
		switch {
		case mk.pos < offset && offset-mk.pos-1 < plan.skip:
			plan = anchor{skip: offset - mk.pos - 1, from: &mk}
		case mk.pos >= offset+limit && mk.pos-(offset+limit) < plan.skip:
			plan = anchor{skip: mk.pos - (offset + limit), backward: true, from: &mk}
		}
	}
	return plan
}

// pinned returns the first and last of a page's keys (not empty) as
// bookmarks at their positions. A walk from the start or a bookmark before
// the page pins its first document at offset; a backward walk pins its
// last at offset+limit-1, as it read the page's end.
func pinned(keys []mark, backward bool, offset, limit int64) (first, last mark) {
	n := int64(len(keys))
	first, last = keys[0], keys[n-1]
	first.pos, last.pos = offset, offset+n-1
	if backward {
		last.pos = offset + limit - 1
		first.pos = last.pos - n + 1
	}
	return first, last
}
