namespace RecApp.Tests.Infrastructure;

/// <summary>
/// Tests whose assertions are time bounds (a start-up, a frozen database's answers) run in this collection, alone:
/// the bounds are the service's, not how busy the other tests keep the two cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingCollection
{
    public const string Name = "timing";
}
