package transfer

import (
	"slices"
	"strings"
	"testing"

	"musicadmin/internal/audit"
	"musicadmin/internal/datamodel"
)

// TestAuditLimitsOfChangedSchema: should the audit log's schema change
// under load (a field renamed, or no longer text), load is told which
// field, and does not panic on the first entry.
func TestAuditLimitsOfChangedSchema(t *testing.T) {
	limits, err := auditLimitsOf(&audit.Schema, auditTexts)
	if err != nil {
		t.Fatalf("audit.Schema as it is: %v", err)
	}
	if limits["record_id"] != 64 {
		t.Errorf("record_id's limit = %d, want 64", limits["record_id"])
	}
	for _, c := range []struct {
		name   string
		change func(f *datamodel.Field)
		want   string
	}{
		{"no longer text", func(f *datamodel.Field) { f.Kind = datamodel.Int{} }, `"record_id" is datamodel.Int`},
		{"renamed", func(f *datamodel.Field) { f.Name = "record" }, `no field "record_id"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			changed := audit.Schema
			changed.Fields = slices.Clone(audit.Schema.Fields)
			c.change(changed.Field("record_id"))
			_, err := auditLimitsOf(&changed, auditTexts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one saying %q", err, c.want)
			}
		})
	}
}
