using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using RecApp.Engine;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data.Models;
using RecApp.Api.Model;

namespace RecApp.Benchmarks.Engine;

/// <summary>
/// iALS on the engine's matrix of the synthetic data (S, L) with the default settings fitted to the data's size
/// (<see cref="ImplicitAlsSettings.FitTo"/>: S 64 factors × 15 iterations, L 64 × 10). A few cold runs: each takes
/// seconds.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class ImplicitAlsBuildBenchmarks
{
    private ImplicitFeedbackMatrix _matrix = null!;
    private ImplicitAlsSettings _settings = null!;

    [Params("S", "L")]
    public string Size { get; set; } = "S";

    [GlobalSetup]
    public void Setup()
    {
        _matrix = ImplicitAlsData.Matrix(Size);
        _settings = new ImplicitAlsSettings().FitTo(_matrix);
    }

    [Benchmark]
    public ImplicitAlsModel Build() => ImplicitAlsBuilder.Build(_matrix, _settings);
}

/// <summary>
/// Per-user exact top-10 over every item with the history excluded (100 users per operation, a deterministic spread):
/// from the stored user vector, after a fresh fold-in of the history, and similar items by cosine.
/// </summary>
[MemoryDiagnoser]
public class ImplicitAlsTopKBenchmarks
{
    private const int Users = 100;
    private ImplicitFeedbackMatrix _matrix = null!;
    private ImplicitAlsModel _model = null!;
    private int[] _users = [];

    [Params("S", "L")]
    public string Size { get; set; } = "S";

    [GlobalSetup]
    public void Setup()
    {
        _matrix = ImplicitAlsData.Matrix(Size);
        _model = ImplicitAlsBuilder.Build(_matrix, new ImplicitAlsSettings().FitTo(_matrix));
        _users = Enumerable.Range(0, _matrix.UserCount).Where(u => u % 97 == 0).Take(Users).ToArray();
    }

    [Benchmark(OperationsPerInvoke = Users)]
    public int TopKFromStoredVector()
    {
        var total = 0;
        foreach (var u in _users)
        {
            total += _model.Recommend(u, 10, History(u)).Indices.Length;
        }
        return total;
    }

    [Benchmark(OperationsPerInvoke = Users)]
    public int TopKAfterFoldIn()
    {
        var total = 0;
        foreach (var u in _users)
        {
            var cells = _matrix.UserStart[u].._matrix.UserStart[u + 1];
            var vector = _model.Items.FoldIn(_matrix.CellItem.AsSpan(cells), _matrix.CellValue.AsSpan(cells));
            total += _model.Items.Recommend(vector, 10, History(u)).Indices.Length;
        }
        return total;
    }

    [Benchmark(OperationsPerInvoke = Users)]
    public int SimilarItems()
    {
        var total = 0;
        foreach (var u in _users)
        {
            total += _model.Items.Similar(_matrix.CellItem[_matrix.UserStart[u]], 10, []).Indices.Length;
        }
        return total;
    }

    private ReadOnlySpan<int> History(int user) => _matrix.CellItem.AsSpan(_matrix.UserStart[user], _matrix.UserStart[user + 1] - _matrix.UserStart[user]);
}

/// <summary>The engine's user × item weights for a synthetic size, as iALS reads them.</summary>
internal static class ImplicitAlsData
{
    public static ImplicitFeedbackMatrix Matrix(string size) =>
        InteractionMatrix.Build(EngineData.Create(size), new RecommendationOptions(), EngineData.Now).ToImplicitFeedback();
}
