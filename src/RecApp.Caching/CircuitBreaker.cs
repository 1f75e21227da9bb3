namespace RecApp.Caching;

/// <summary>
/// Skips Redis after <c>threshold</c> consecutive failures for <c>breakDuration</c>, then lets one probe call through
/// (half-open): its success closes the breaker, its failure opens it again. Lock-free; times are UTC ticks.
/// </summary>
internal sealed class CircuitBreaker(int threshold, TimeSpan breakDuration, TimeProvider time)
{
    public const int Closed = 0;
    public const int Open = 1;
    public const int HalfOpen = 2;

    private int _state;
    private int _failures;
    private long _openUntil;

    /// <summary>Raised when the breaker closes after being open (Redis is back).</summary>
    public event Action? Healed;

    /// <summary>Raised when the breaker opens.</summary>
    public event Action? Opened;

    public int State => Volatile.Read(ref _state);

    public string StateName => State switch { Open => "open", HalfOpen => "half-open", _ => "closed" };

    /// <summary>Whether a Redis call may go ahead now (the closed state, or the single half-open probe).</summary>
    public bool TryEnter()
    {
        var state = Volatile.Read(ref _state);
        if (state == Closed)
        {
            return true;
        }
        return state == Open
            && time.GetUtcNow().UtcTicks >= Interlocked.Read(ref _openUntil)
            && Interlocked.CompareExchange(ref _state, HalfOpen, Open) == Open;
    }

    public void Success()
    {
        Volatile.Write(ref _failures, 0);
        if (Interlocked.Exchange(ref _state, Closed) != Closed)
        {
            Healed?.Invoke();
        }
    }

    public void Failure()
    {
        var failures = Interlocked.Increment(ref _failures);
        var state = Volatile.Read(ref _state);
        if (state == HalfOpen || (state == Closed && failures >= threshold))
        {
            Interlocked.Exchange(ref _openUntil, time.GetUtcNow().UtcTicks + breakDuration.Ticks);
            if (Interlocked.Exchange(ref _state, Open) != Open)
            {
                Opened?.Invoke();
            }
        }
    }

    /// <summary>Closes the breaker at once (the connection reported itself restored).</summary>
    public void Reset() => Success();
}
