package auth

// Role is a named set of permissions; every user created by create-admin has
// the Admin role.
type Role struct {
	ID   int64  `gorm:"primaryKey"`
	Name string `gorm:"size:64;not null;uniqueIndex:ux_roles_name"`
}

// User is someone who can log in.
type User struct {
	ID           int64  `gorm:"primaryKey"`
	Username     string `gorm:"size:64;not null;uniqueIndex:ux_users_username"`
	FirstName    string `gorm:"size:64;not null"`
	LastName     string `gorm:"size:64;not null"`
	Email        string `gorm:"size:254;not null"`
	PasswordHash string `gorm:"size:255;not null"`
	Active       bool   `gorm:"not null;default:true"`
	RoleID       *int64 `gorm:"index:ix_users_role_id"`
	Role         *Role  `gorm:"constraint:OnDelete:SET NULL"`
	CreatedAt    int64  `gorm:"not null;autoCreateTime"`
}

// Session is the server-side half of a login: the cookie holds a random
// token whose SHA-256 is ID, so deleting the row ends the session for good
// and a stolen database does not reveal live tokens.
type Session struct {
	ID        string `gorm:"primaryKey;size:64"`
	UserID    int64  `gorm:"not null;index:ix_user_sessions_user_id"`
	User      *User  `gorm:"constraint:OnDelete:CASCADE"`
	AuthTag   string `gorm:"size:64;not null"`
	CreatedAt int64  `gorm:"not null;autoCreateTime"`
	ExpiresAt int64  `gorm:"not null"`
}

// TableName keeps the table name explicit: "sessions" is too generic.
func (Session) TableName() string { return "user_sessions" }
