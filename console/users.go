package console

import (
	"context"
	"fmt"
	"regexp"

	intake "github.com/hotline12345/intake-gateway"
)

var userName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$`)

// Accounts is what adding an operator needs from the store.
type Accounts interface {
	CreateUser(ctx context.Context, u intake.User, audit intake.AuditEntry) (intake.User, error)
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
