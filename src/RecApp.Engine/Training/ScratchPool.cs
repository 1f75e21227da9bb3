using System.Collections.Concurrent;

namespace RecApp.Engine.Training;

/// <summary>
/// Per-worker scratch for <c>Parallel.For</c> when it is sized to all items or users. <c>Parallel.For</c> calls its
/// <c>localInit</c> again every time a worker yields (every 100–150 ms for every worker but the calling thread's), so a
/// scratch allocated there is allocated anew, zeroed and dropped several times a second: at XL (2M users) 16 MB each
/// time, a cost that grows with the size times the build's duration. Rent it here in <c>localInit</c>, return it in
/// <c>localFinally</c>. The loop body must leave the scratch as clean as it found it (each builder resets the cells it
/// touched).
/// </summary>
internal sealed class ScratchPool<T>(Func<T> create) where T : class
{
    private readonly ConcurrentBag<T> _free = [];

    public T Rent() => _free.TryTake(out var scratch) ? scratch : create();

    public void Return(T scratch) => _free.Add(scratch);
}
