using RecApp.Refresher.Jobs;

namespace RecApp.Tests.Refresher;

/// <summary>The Refresher's one-build-at-a-time turn (pure logic, no I/O).</summary>
public sealed class BuildGateTests
{
    [Fact]
    public async Task Turns_are_taken_one_at_a_time_in_the_order_they_were_asked_for()
    {
        var gate = new BuildGate();
        var order = new List<int>();
        var first = await gate.EnterBuildAsync(CancellationToken.None);
        var second = gate.EnterBuildAsync(CancellationToken.None).ContinueWith(t => { lock (order) { order.Add(2); } return t.Result; });
        var third = gate.EnterBuildAsync(CancellationToken.None).ContinueWith(t => { lock (order) { order.Add(3); } return t.Result; });

        Assert.False(second.IsCompleted);
        Assert.False(third.IsCompleted);
        first.Dispose();
        first.Dispose(); // a second dispose gives nothing back twice
        var secondTurn = await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(third.IsCompleted);
        secondTurn.Dispose();
        (await third.WaitAsync(TimeSpan.FromSeconds(10))).Dispose();

        Assert.Equal([2, 3], order);
    }

    [Fact]
    public async Task A_job_publishes_while_the_next_builds_and_publish_turns_keep_the_builds_order()
    {
        var gate = new BuildGate();
        var build1 = await gate.EnterBuildAsync(CancellationToken.None);
        var publish1 = gate.EnterPublishAsync(CancellationToken.None);
        build1.Dispose();
        var build2 = gate.EnterBuildAsync(CancellationToken.None);
        Assert.True(publish1.IsCompletedSuccessfully, "the first publish turn is free");
        Assert.True(build2.IsCompletedSuccessfully, "the next build starts while the first job publishes");

        var publish2 = gate.EnterPublishAsync(CancellationToken.None);
        (await build2).Dispose();
        Assert.False(publish2.IsCompleted);
        (await publish1).Dispose();
        (await publish2.WaitAsync(TimeSpan.FromSeconds(10))).Dispose();
    }

    [Fact]
    public async Task A_wait_cancelled_takes_no_turn()
    {
        var gate = new BuildGate();
        var held = await gate.EnterBuildAsync(CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var waiting = gate.EnterBuildAsync(cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        held.Dispose();
        var next = gate.EnterBuildAsync(CancellationToken.None);
        Assert.True(next.IsCompletedSuccessfully, "the turn is free again");
        (await next).Dispose();
    }
}
