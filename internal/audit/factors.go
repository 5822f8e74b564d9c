package audit

// The audited actions of second factors and the organisations' sign-in
// policies (internal/session, factors*.go). Apart from audit.go to keep
// the areas' changes apart.
const (
	// SecondFactorAdded: a person confirmed an authenticator app (its
	// recovery codes were made with it).
	SecondFactorAdded Action = "user.second_factor_added"
	// SecondFactorRemoved: a person removed their authenticator app and
	// its recovery codes.
	SecondFactorRemoved Action = "user.second_factor_removed"
	// RecoveryCodesRenewed: a person made new recovery codes; the old ones
	// no longer count.
	RecoveryCodesRenewed Action = "user.recovery_codes_renewed"
	// FactorResetIssued: an administrator issued a link that removes a
	// person's second factors.
	FactorResetIssued Action = "user.factor_reset_issued"
	// FactorsReset: the person used that link: their app, recovery codes
	// and passkeys are gone and their sessions ended.
	FactorsReset Action = "user.factors_reset"
	// SignInPolicyChanged: an administrator changed an organisation's
	// sign-in policy (second factors, passkeys alone, step-up).
	SignInPolicyChanged Action = "org.sign_in_policy_changed"
)
