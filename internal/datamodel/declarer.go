package datamodel

// Declarer declares models on a store, which maps each to its table or
// collection: the one step a model needs to be read and written on any
// backend.
type Declarer interface {
	// Declare declares decl, whose references and sets name models
	// declared before it, and returns its records' interface.
	Declare(decl Schema) (Interface, error)
}
