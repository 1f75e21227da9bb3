using RecApp.Tests.Infrastructure;

namespace RecApp.Tests.Caching;

/// <summary>Stampede protection: one factory run per key per instance, with the cancellation and failure rules.</summary>
public sealed class StampedeTests : IAsyncLifetime
{
    private readonly string _prefix = $"st-{Guid.NewGuid():N}"[..15] + ":";
    private CacheInstance _cache = null!;

    public async Task InitializeAsync() => _cache = await CacheInstance.StartAsync((await TestServers.Redis).ConnectionString, _prefix);

    public async Task DisposeAsync() => await _cache.DisposeAsync();

    [Fact]
    public async Task A_thousand_concurrent_callers_on_a_cold_key_run_the_factory_once()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;
        async ValueTask<string> Factory(CancellationToken _)
        {
            Interlocked.Increment(ref runs);
            await gate.Task;
            return "value";
        }

        var callers = Enumerable.Range(0, 1000)
            .Select(_ => Task.Run(async () => await _cache.Cache.GetOrCreateAsync("cold", Factory)))
            .ToArray();
        await LocalProcess.WaitUntilAsync(() => Task.FromResult(_cache.Stats.CoalescedWaiters == 999), TimeSpan.FromSeconds(30), "999 callers to join the first");
        gate.SetResult();
        var values = await Task.WhenAll(callers);

        Assert.Equal(1, runs);
        Assert.All(values, v => Assert.Equal("value", v));
        Assert.Equal(1000, _cache.Stats.Misses);
    }

    [Fact]
    public async Task A_callers_cancellation_ends_only_its_own_wait()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var factoryToken = CancellationToken.None;
        async ValueTask<string> Factory(CancellationToken ct)
        {
            factoryToken = ct;
            await gate.Task;
            return "done";
        }

        using var first = new CancellationTokenSource();
        var cancelled = _cache.Cache.GetOrCreateAsync("cancel-one", Factory, cancellationToken: first.Token).AsTask();
        var stays = _cache.Cache.GetOrCreateAsync("cancel-one", Factory).AsTask();
        await LocalProcess.WaitUntilAsync(() => Task.FromResult(_cache.Stats.CoalescedWaiters >= 1), TimeSpan.FromSeconds(10), "the second caller to join");
        await first.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.False(factoryToken.IsCancellationRequested);
        gate.SetResult();
        Assert.Equal("done", await stays);
    }

    [Fact]
    public async Task The_factory_is_cancelled_when_every_waiter_has_gone()
    {
        var factoryCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async ValueTask<string> Factory(CancellationToken ct)
        {
            using var _ = ct.Register(() => factoryCancelled.TrySetResult());
            await Task.Delay(Timeout.Infinite, ct);
            return "never";
        }

        using var one = new CancellationTokenSource();
        using var two = new CancellationTokenSource();
        var a = _cache.Cache.GetOrCreateAsync("cancel-all", Factory, cancellationToken: one.Token).AsTask();
        var b = _cache.Cache.GetOrCreateAsync("cancel-all", Factory, cancellationToken: two.Token).AsTask();
        await LocalProcess.WaitUntilAsync(() => Task.FromResult(_cache.Stats.CoalescedWaiters >= 1), TimeSpan.FromSeconds(10), "the second caller to join");
        await one.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a);
        Assert.False(factoryCancelled.Task.IsCompleted);
        await two.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b);
        await factoryCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // The next caller starts afresh.
        Assert.Equal("fresh", await _cache.Cache.GetOrCreateAsync("cancel-all", _ => ValueTask.FromResult("fresh")));
    }

    [Fact]
    public async Task A_failing_factory_fails_every_current_waiter_and_caches_nothing()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;
        async ValueTask<string> Failing(CancellationToken _)
        {
            Interlocked.Increment(ref runs);
            await gate.Task;
            throw new InvalidOperationException("boom");
        }

        var callers = Enumerable.Range(0, 10).Select(_ => _cache.Cache.GetOrCreateAsync("failing", Failing).AsTask()).ToArray();
        await LocalProcess.WaitUntilAsync(() => Task.FromResult(_cache.Stats.CoalescedWaiters >= 9), TimeSpan.FromSeconds(10), "the callers to join");
        gate.SetResult();
        foreach (var caller in callers)
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => caller);
            Assert.Equal("boom", error.Message);
        }
        Assert.Equal(1, runs);
        Assert.Null(_cache.Cache.PeekLocal("failing"));
        Assert.Null(await _cache.RawAsync(_prefix, "failing"));
        Assert.Equal("ok", await _cache.Cache.GetOrCreateAsync("failing", _ => ValueTask.FromResult("ok")));
    }

    [Fact]
    public async Task Work_overtaken_by_a_removal_or_a_tag_invalidation_is_not_served_afterwards()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async ValueTask<string> Slow(CancellationToken _)
        {
            await gate.Task;
            return "computed-before";
        }

        // Removed while the factory runs: the caller gets its value, the cache does not keep it.
        var removed = _cache.Cache.GetOrCreateAsync("overtaken-remove", Slow).AsTask();
        await LocalProcess.WaitUntilAsync(() => Task.FromResult(_cache.Cache.InFlight == 1), TimeSpan.FromSeconds(10), "the load to start");
        await _cache.Cache.RemoveAsync("overtaken-remove");
        gate.SetResult();
        Assert.Equal("computed-before", await removed);
        Assert.Null(_cache.Cache.PeekLocal("overtaken-remove"));
        Assert.Equal("after", await _cache.Cache.GetOrCreateAsync("overtaken-remove", _ => ValueTask.FromResult("after")));

        // Tag invalidated while the factory runs: the entry counts as created before the invalidation.
        gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tagged = _cache.Cache.GetOrCreateAsync("overtaken-tag", Slow, tags: ["moving"]).AsTask();
        await LocalProcess.WaitUntilAsync(() => Task.FromResult(_cache.Cache.InFlight == 1), TimeSpan.FromSeconds(10), "the load to start");
        await _cache.Cache.RemoveByTagAsync("moving");
        gate.SetResult();
        Assert.Equal("computed-before", await tagged);
        Assert.Equal("after", await _cache.Cache.GetOrCreateAsync("overtaken-tag", _ => ValueTask.FromResult("after"), tags: ["moving"]));
    }
}
