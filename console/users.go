package console

import (
	"context"
	"fmt"
	"regexp"

	intake "github.com/hotline12345/intake-gateway"
)

var userName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$`)

// Accounts is what managing operators needs from the store.
type Accounts interface {
	CreateUser(ctx context.Context, u intake.User, audit intake.AuditEntry) (intake.User, error)
	UpdateUser(ctx context.Context, name string, ch intake.UserChange, audit intake.AuditEntry) (intake.User, error)
	ListUsers(ctx context.Context) ([]intake.User, error)
}

// AddUser creates an operator account with a hashed password; the creation is audited as done
// by actor (of actorKind) in the same transaction.
func AddUser(ctx context.Context, st Accounts, name string, role intake.Role, password string, p PasswordParams, actor, actorKind string) (intake.User, error) {
	if !userName.MatchString(name) {
		return intake.User{}, fmt.Errorf("%w: a user name is 2-64 letters, digits, '.', '_' or '-', starting with a letter or digit", intake.ErrInvalid)
	}
	if !role.Valid() {
		return intake.User{}, fmt.Errorf("%w: role %q (viewer, operator or admin)", intake.ErrInvalid, role)
	}
	if p == (PasswordParams{}) {
		p = DefaultPasswordParams
	}
	hash, err := HashPassword(password, p)
	if err != nil {
		return intake.User{}, fmt.Errorf("%w: %w", intake.ErrInvalid, err)
	}
	u, err := st.CreateUser(ctx, intake.User{Name: name, Role: role, PasswordHash: hash}, intake.AuditEntry{
		Actor: actor, ActorKind: actorKind, Action: intake.AuditUserAdd, Target: "user:" + name, Detail: "role=" + string(role),
	})
	if err != nil {
		return intake.User{}, fmt.Errorf("add user %s: %w", name, err)
	}
	return u, nil
}

// SetDisabled disables (true) or enables an operator; disabling ends its sessions at once.
func SetDisabled(ctx context.Context, st Accounts, name string, disabled bool, actor, actorKind string) (intake.User, error) {
	detail := "enabled"
	if disabled {
		detail = "disabled"
	}
	return change(ctx, st, name, intake.UserChange{Disabled: &disabled}, detail, actor, actorKind)
}

// SetRole gives an operator another role; its sessions end, so the new role applies at once.
func SetRole(ctx context.Context, st Accounts, name string, role intake.Role, actor, actorKind string) (intake.User, error) {
	if !role.Valid() {
		return intake.User{}, fmt.Errorf("%w: role %q (viewer, operator or admin)", intake.ErrInvalid, role)
	}
	return change(ctx, st, name, intake.UserChange{Role: &role}, "role="+string(role), actor, actorKind)
}

// SetPassword replaces an operator's password; its sessions end.
func SetPassword(ctx context.Context, st Accounts, name, password string, p PasswordParams, actor, actorKind string) (intake.User, error) {
	if p == (PasswordParams{}) {
		p = DefaultPasswordParams
	}
	hash, err := HashPassword(password, p)
	if err != nil {
		return intake.User{}, fmt.Errorf("%w: %w", intake.ErrInvalid, err)
	}
	return change(ctx, st, name, intake.UserChange{PasswordHash: &hash}, "password changed", actor, actorKind)
}

func change(ctx context.Context, st Accounts, name string, ch intake.UserChange, detail, actor, actorKind string) (intake.User, error) {
	u, err := st.UpdateUser(ctx, name, ch, intake.AuditEntry{
		Actor: actor, ActorKind: actorKind, Action: intake.AuditUserChange, Target: "user:" + name, Detail: detail,
	})
	if err != nil {
		return intake.User{}, fmt.Errorf("change user %s: %w", name, err)
	}
	return u, nil
}
