using System.Diagnostics.CodeAnalysis;

namespace UserStream.Process.Validation;

/// <summary>Either the validated user or why the record was rejected.</summary>
public sealed class ValidationOutcome
{
    private ValidationOutcome(RawUser? user, Rejection? rejection)
    {
        User = user;
        Rejection = rejection;
    }

    public RawUser? User { get; }
    public Rejection? Rejection { get; }

    [MemberNotNullWhen(true, nameof(User))]
    [MemberNotNullWhen(false, nameof(Rejection))]
    public bool IsValid => User is not null;

    public static ValidationOutcome Valid(RawUser user) => new(user, null);

    public static ValidationOutcome Rejected(string code, string reason) => new(null, new Rejection(code, reason));

    public static ValidationOutcome Rejected(Rejection rejection) => new(null, rejection);
}
