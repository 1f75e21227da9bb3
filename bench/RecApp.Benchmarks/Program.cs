using BenchmarkDotNet.Running;

namespace RecApp.Benchmarks;

/// <summary>
/// Every team's benchmark classes in this assembly; pick with --filter, e.g. --filter '*Cache*'. Not top-level
/// statements: the API project referenced here already has a <c>Program</c> class.
/// </summary>
public static class BenchmarkEntry
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(BenchmarkEntry).Assembly).Run(args);
}
