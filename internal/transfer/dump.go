package transfer

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"musicadmin/internal/auth"
	"musicadmin/internal/backend"
	"musicadmin/internal/datamodel"
)

// Progress is told how many records of the total a stage ("dump", "check",
// "load") has done so far. Total may be an estimate while records are
// written meanwhile.
type Progress func(stage string, done, total int)

// Counts is how many records of each model a dump or a load handled, in
// the file's order.
type Counts []Count

// Count is one model's records.
type Count struct {
	Model string
	N     int
}

func (c Counts) String() string {
	s := ""
	for i, m := range c {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%d %s", m.N, plural(m.Model, m.N))
	}
	return s
}

// Total is the number of records of every model.
func (c Counts) Total() int {
	n := 0
	for _, m := range c {
		n += m.N
	}
	return n
}

func plural(model string, n int) string {
	if n == 1 {
		return model
	}
	return model + "s"
}

func (c *Counts) add(model string) {
	if k := len(*c); k > 0 && (*c)[k-1].Model == model {
		(*c)[k-1].N++
		return
	}
	*c = append(*c, Count{Model: model, N: 1})
}

// Dump writes every record of b to w, in the format of the package doc,
// and returns how many of each model it wrote. Each model is read as a
// stream (datamodel.Interface.Each), so a dump of any size holds a batch
// of records in memory, not the database; it is not one snapshot, so the
// database should not be written to meanwhile.
func Dump(ctx context.Context, b backend.Backend, w io.Writer, progress Progress) (Counts, error) {
	accounts, err := backend.Transfer(b)
	if err != nil {
		return nil, err
	}
	if progress == nil {
		progress = func(string, int, int) {}
	}
	roles, err := accounts.ExportRoles(ctx)
	if err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	users, err := accounts.CountUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	total := len(roles) + int(users)
	for _, m := range b.Catalog().All() {
		n, err := m.Count(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("dump: count %s: %w", m.Schema().Name, err)
		}
		total += int(n)
	}

	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	// Text is written as it is: "<" stays "<", not "\u003c".
	enc.SetEscapeHTML(false)
	if err := enc.Encode(header{Format: Format, Version: Version}); err != nil {
		return nil, fmt.Errorf("dump: write: %w", err)
	}
	var counts Counts
	write := func(model, id string, fields any) error {
		if err := enc.Encode(struct {
			Model  string `json:"model"`
			ID     string `json:"id"`
			Fields any    `json:"fields"`
		}{model, id, fields}); err != nil {
			return fmt.Errorf("dump: write: %w", err)
		}
		counts.add(model)
		progress("dump", counts.Total(), max(total, counts.Total()))
		return nil
	}
	for _, r := range roles {
		if err := write(modelRole, r.ID, roleFields{Name: r.Name}); err != nil {
			return counts, err
		}
	}
	err = accounts.ExportAccounts(ctx, func(a auth.Account) error {
		active := a.Active
		return write(modelUser, a.ID, userFields{Username: a.Username, FirstName: a.FirstName,
			LastName: a.LastName, Email: a.Email, PasswordHash: a.PasswordHash, Active: &active,
			Roles: a.RoleIDs, CreatedAt: a.CreatedAt})
	})
	if err != nil {
		return counts, fmt.Errorf("dump: users: %w", err)
	}
	for _, m := range b.Catalog().All() {
		s := m.Schema()
		err := m.Each(ctx, datamodel.Query{}, func(r datamodel.Record) error {
			fields := make(map[string]any, len(s.Fields))
			for _, f := range s.Fields {
				fields[f.Name] = f.Kind.Store(r.Values[f.Name])
			}
			return write(s.Name, r.ID, fields)
		})
		if err != nil {
			return counts, fmt.Errorf("dump: %s: %w", s.Name, err)
		}
	}
	if err := enc.Encode(trailer{End: true, Records: counts.Total()}); err != nil {
		return counts, fmt.Errorf("dump: write: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return counts, fmt.Errorf("dump: write: %w", err)
	}
	return counts, nil
}
