using BenchmarkDotNet.Running;
using RecApp.Benchmarks.Ranking;

namespace RecApp.Benchmarks;

/// <summary>
/// Every team's benchmark classes in this assembly; pick with --filter, e.g. --filter '*Cache*'. Not top-level
/// statements: the API project referenced here already has a <c>Program</c> class. <c>ranker-experiment</c> runs the
/// learned-ranker measurement instead (<see cref="RankerExperiment"/>).
/// </summary>
public static class BenchmarkEntry
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "ranker-experiment")
        {
            return RankerExperiment.Run(args[1..]);
        }
        BenchmarkSwitcher.FromAssembly(typeof(BenchmarkEntry).Assembly).Run(args);
        return 0;
    }
}
