namespace RecApp.Data;

/// <summary>
/// Handed to a write that its caller may give up on (a request's deadline): <see cref="Enter"/> right before the commit
/// (or an autocommit statement). A write given up before that point can then never commit later, so "nothing was
/// stored" stays true; one given up after it is reported as "may or may not be stored".
/// </summary>
public sealed class CommitGate
{
    /// <summary>For writes nobody gives up on (tools, tests).</summary>
    public static CommitGate Open => new();

    private readonly Lock _lock = new();
    private bool _committing;
    private bool _abandoned;

    /// <summary>From here the write may land; throws when the caller has already been told it did not.</summary>
    public void Enter()
    {
        lock (_lock)
        {
            if (_abandoned)
            {
                throw new OperationCanceledException("The write was given up before its commit.");
            }
            _committing = true;
        }
    }

    /// <summary>Whether the write has reached its commit (a failure from here leaves its outcome unknown).</summary>
    public bool HasEntered
    {
        get
        {
            lock (_lock)
            {
                return _committing;
            }
        }
    }

    /// <summary>Abandons the write; true when its commit had already begun (the outcome is unknown).</summary>
    public bool GiveUp()
    {
        lock (_lock)
        {
            _abandoned = !_committing;
            return _committing;
        }
    }
}
