package transfer

import (
	"maps"

	"musicadmin/internal/access"
	"musicadmin/internal/accounts"
	"musicadmin/internal/app"
	"musicadmin/internal/audit"
	"musicadmin/internal/backend"
	"musicadmin/internal/catalog"
	"musicadmin/internal/datamodel"
)

// loader reads a dump into one backend.
type loader struct {
	b        *app.App
	accounts backend.TransferAccounts
	log      backend.TransferAudit
	models   map[string]datamodel.Interface // the catalogue's, the tokens' and the second factors', by schema name
	// referenced are the models whose ids references hold: a source id
	// of theirs is remembered (checking) and mapped (writing).
	referenced map[string]bool
	// viewModels names the model each view shows, for the record ids of
	// audit entries.
	viewModels map[string]string

	// What the first pass learns of the file, for the second.
	version int
	// views are the views the file's permissions name, sorted: on those,
	// a role gets exactly the file's permissions (see the package doc).
	views []string
	// cited are the source ids audit entries name, by model: their new
	// ids are remembered as they are written, for the entries after them.
	// Only those: a million songs' ids are not kept for a log that names
	// a few.
	cited map[string]map[string]bool
	// auditLimits are audit.Schema's limits an entry's texts are checked
	// against, read once, before any line.
	auditLimits auditLimits
}

// accountViews are the views of the Security menu that show users and
// roles (CONTRACT: /users/list/, /roles/list/), and the tokens' view of
// their entries: their audit entries' record ids are users', roles' and
// tokens' ids.
var accountViews = map[string]string{"users": modelUser, "roles": modelRole, accounts.TokensView: accounts.TokensModel}

// lineModel is the model of the lines holding the records of the model
// target names: users are "user" lines; the others go by their name.
func lineModel(target string) string {
	if target == accounts.UsersModel {
		return modelUser
	}
	return target
}

func newLoader(b *app.App, accounts backend.TransferAccounts, log backend.TransferAudit) (*loader, error) {
	limits, err := auditLimitsOf(&audit.Schema, auditTexts)
	if err != nil {
		return nil, err
	}
	l := &loader{b: b, accounts: accounts, log: log, models: map[string]datamodel.Interface{},
		referenced: map[string]bool{modelRole: true}, viewModels: map[string]string{},
		cited: map[string]map[string]bool{}, auditLimits: limits}
	for _, m := range append([]datamodel.Interface{b.AccountModels().Tokens, b.AccountModels().SecondFactors,
		b.AccountModels().Identities}, b.Catalog().All()...) {
		l.models[m.Schema().Name] = m
		for _, f := range m.Schema().Fields {
			if t := f.Target(); t != "" {
				l.referenced[lineModel(t)] = true
			}
		}
	}
	for _, v := range catalog.Views(b.Catalog()) {
		l.viewModels[v.Name] = v.Data.Schema().Name
	}
	maps.Copy(l.viewModels, accountViews)
	return l, nil
}

// item is one record line, decoded and checked on its own.
type item struct {
	model  string
	id     string
	role   roleFields
	perms  []access.Permission // a role's, parsed; nil in a version 1 file
	user   userFields
	values datamodel.Values    // a catalogue record's
	m      datamodel.Interface // its model
	entry  audit.Entry         // an audit entry, with the source's ids
}
