package cbcsim

import "fmt"

// The descriptions the generator writes, as CBC's audit log words them. Those that pick a user, a role, a
// policy or a device draw from the generator's random stream in the order written.

func loginFailed(email string) string { return fmt.Sprintf("Login failed for user %s", email) }

func connectorSignedIn(id string) string {
	return fmt.Sprintf("Connector %s logged in successfully", id)
}

func connectorUpdated(name, id string) string {
	return fmt.Sprintf("Updated connector %s with api key %s", name, id)
}

func policyDeleted(name string) string { return fmt.Sprintf("Deleted policy '%s'", name) }

func (g *generator) pick(from []string) string { return from[g.rng.IntN(len(from))] }

func (g *generator) keyCreated(name string) string {
	return fmt.Sprintf("Created API key %s with id %s", name, g.keyID())
}

func (g *generator) keyDeleted() string { return fmt.Sprintf("Deleted API key %s", g.keyID()) }

func (g *generator) roleChanged(roles []string) string {
	user := users[g.rng.IntN(len(users))].email
	return fmt.Sprintf("Updated role of user %s to %s", user, g.pick(roles))
}

func (g *generator) userAdded(roles []string) string {
	user := users[g.rng.IntN(len(users))].email
	return fmt.Sprintf("Added user %s with role %s", user, g.pick(roles))
}

func (g *generator) policyUpdated() string {
	return fmt.Sprintf("Updated policy '%s'", g.pick(policies))
}

func (g *generator) liveResponse(verb string) string {
	session := 1000 + g.rng.IntN(9000)
	return fmt.Sprintf("%s Live Response session %d on device %s", verb, session, g.pick(devices))
}

func (g *generator) reportUpdated() string { return fmt.Sprintf("Updated report, %s", g.pick(reports)) }
