package security

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"musicadmin/internal/access"
	"musicadmin/internal/admin"
	"musicadmin/internal/datamodel"
)

// RolesFormat names the JSON of export-roles and import-roles, so that a
// file of something else is refused rather than half read.
const RolesFormat = "musicadmin-roles"

// RolesFile is the JSON export-roles writes and import-roles reads:
//
//	{"format": "musicadmin-roles", "version": 1,
//	 "roles": [{"name": "Editor", "permissions": ["can_add:songsview", "can_list:songsview"]}]}
//
// Each permission is its key, "action:view" (access.Permission.Key). Roles
// are by name, permissions by view and then action, so two exports of the
// same roles are the same bytes. The Admin role is listed with every
// permission, which it holds by its name whatever the file says.
type RolesFile struct {
	Format  string      `json:"format"`
	Version int         `json:"version"`
	Roles   []RoleEntry `json:"roles"`
}

// RoleEntry is one role of a RolesFile.
type RoleEntry struct {
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
}

// ExportRoles returns every role with its permissions.
func (s *Service) ExportRoles(ctx context.Context) (RolesFile, error) {
	f := RolesFile{Format: RolesFormat, Version: 1, Roles: []RoleEntry{}}
	q := datamodel.Query{Sort: s.Roles.Schema().Field(FieldName)}
	err := s.Roles.Each(ctx, q, func(rec datamodel.Record) error {
		keys := datamodel.IDs(rec.Values[FieldPermissions])
		perms := make([]access.Permission, 0, len(keys))
		for _, k := range keys {
			if p, ok := access.ParseKey(k); ok {
				perms = append(perms, p)
			}
		}
		slices.SortFunc(perms, access.Compare)
		e := RoleEntry{Name: roleName(rec), Permissions: make([]string, len(perms))}
		for i, p := range perms {
			e.Permissions[i] = p.Key()
		}
		f.Roles = append(f.Roles, e)
		return nil
	})
	if err != nil {
		return RolesFile{}, err
	}
	return f, nil
}

// WriteRoles writes f as indented JSON.
func WriteRoles(w io.Writer, f RolesFile) error {
	body, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(body, '\n'))
	return err
}

// ReadRoles reads a RolesFile, refusing anything else: another format or
// version, unknown keys, trailing data.
func ReadRoles(r io.Reader) (RolesFile, error) {
	body, err := io.ReadAll(io.LimitReader(r, 16<<20))
	if err != nil {
		return RolesFile{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var f RolesFile
	if err := dec.Decode(&f); err != nil {
		return RolesFile{}, fmt.Errorf("not a roles file: %w", err)
	}
	if dec.More() {
		return RolesFile{}, errors.New("not a roles file: data after its end")
	}
	if f.Format != RolesFormat || f.Version != 1 {
		return RolesFile{}, fmt.Errorf("not a roles file: want format %q version 1", RolesFormat)
	}
	return f, nil
}

// ImportResult counts what ImportRoles did.
type ImportResult struct {
	Created, Updated, Unchanged int
}

// ImportRoles makes the roles of f exist with exactly their permissions:
// a role missing is created, one whose permissions differ is updated, one
// that has them is left alone, so importing the same file twice changes
// nothing the second time. Roles the file does not name are kept. The
// whole file is checked before anything is written, through the roles
// form's own rules (roles, the Role view): a permission no view has (its
// key unknown), a name used twice or a name the form refuses is an error
// naming the role, and nothing is written. The Admin role's permissions
// are all of them whatever the file says. ctx carries the audit actor.
func (s *Service) ImportRoles(ctx context.Context, roles *admin.ModelView, f RolesFile) (ImportResult, error) {
	plans, err := s.planImport(ctx, roles, f)
	if err != nil {
		return ImportResult{}, err
	}
	var res ImportResult
	for _, p := range plans {
		if p.existing == nil {
			if _, err := s.Roles.Create(ctx, p.values); err != nil {
				return res, fmt.Errorf("create role %q: %w", p.values[FieldName], roles.WriteProblem(err))
			}
			res.Created++
			continue
		}
		if s.Roles.Schema().Holds(*p.existing, p.values) {
			res.Unchanged++
			continue
		}
		if err := s.Roles.Update(ctx, p.existing.ID, p.values); err != nil {
			return res, fmt.Errorf("update role %q: %w", roleName(*p.existing), roles.WriteProblem(err))
		}
		res.Updated++
	}
	return res, nil
}

// importPlan is what an import does to one role: the role as stored (nil:
// to be created) and its values, checked by the form's rules.
type importPlan struct {
	existing *datamodel.Record
	values   datamodel.Values
}

// planImport checks every role of f and returns what to write for each,
// writing nothing.
func (s *Service) planImport(ctx context.Context, roles *admin.ModelView, f RolesFile) ([]importPlan, error) {
	offered, err := s.Roles.Choices(ctx, s.Roles.Schema().Field(FieldPermissions))
	if err != nil {
		return nil, err
	}
	known := make(map[string]bool, len(offered))
	for _, o := range offered {
		known[o.ID] = true
	}
	var plans []importPlan
	seen := map[string]bool{}
	for i, e := range f.Roles {
		name := strings.TrimSpace(e.Name)
		what := fmt.Sprintf("role %d (%q)", i+1, e.Name)
		if seen[name] {
			return nil, fmt.Errorf("%s: the file names this role twice", what)
		}
		seen[name] = true
		if err := knownPermissions(known, e.Permissions); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		var existing *datamodel.Record
		switch rec, err := s.RoleByName(ctx, name); {
		case err == nil:
			existing = &rec
		case !errors.Is(err, datamodel.ErrNotFound):
			return nil, err
		}
		posted := url.Values{FieldName: {e.Name}, FieldPermissions: e.Permissions}
		values, err := roles.Validate(ctx, posted, existing)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		plans = append(plans, importPlan{existing: existing, values: values})
	}
	return plans, nil
}

// knownPermissions refuses keys that name no permission of this app.
func knownPermissions(known map[string]bool, keys []string) error {
	var unknown []string
	for _, k := range keys {
		if !known[k] {
			unknown = append(unknown, fmt.Sprintf("%q", k))
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("unknown permission %s (a permission is \"action:view\", such as \"can_list:albumview\", of a view this app has)",
			strings.Join(unknown, ", "))
	}
	return nil
}
