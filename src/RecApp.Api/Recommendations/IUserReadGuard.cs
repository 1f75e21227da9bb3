namespace RecApp.Api.Recommendations;

/// <summary>
/// Bounds the one database read of a personalized answer (<see cref="Recommender"/>: the user's history and
/// demographics). The API's circuit breaker implements it, around the read only: scoring is CPU work, and a heavy
/// user's scoring on a busy machine must not count as a database outage nor turn into the popular fallback.
/// </summary>
public interface IUserReadGuard
{
    ValueTask<T> ExecuteAsync<TState, T>(TState state, Func<TState, CancellationToken, ValueTask<T>> read, CancellationToken cancellationToken);
}
