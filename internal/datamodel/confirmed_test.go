package datamodel

import "testing"

// TestPasswordConfirmed: the two inputs of a new password must be the
// same, as typed; two empty inputs are no password, which the decoder
// refuses first when the field is required.
func TestPasswordConfirmed(t *testing.T) {
	k := Password{MaxBytes: 72}
	for _, tc := range []struct {
		text, again string
		want        any
		err         string
	}{
		{" s3cret ", " s3cret ", Secret(" s3cret "), ""},
		{"", "", Secret(""), ""},
		{"s3cret", "s3cret ", nil, "The two passwords differ."},
		{"", "s3cret", nil, "The two passwords differ."},
	} {
		got, err := k.ParseConfirmed(tc.text, tc.again)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q, %q: error %v, want %q", tc.text, tc.again, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q, %q: %#v %v, want %#v", tc.text, tc.again, got, err, tc.want)
		}
	}
}
