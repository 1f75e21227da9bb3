using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using RecApp.Engine.Domain;
using RecApp.Data.Migrations;
using RecApp.Data.Source;
using RecApp.Engine;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Data.Models;
using RecApp.Api.Model;

namespace RecApp.Benchmarks.Engine;

/// <summary>
/// In-memory model build from a dataset (every part, as the start-up run of all jobs does, minus the database
/// read and COPY writes). A few cold runs: each iteration takes seconds.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class ModelBuildBenchmarks
{
    private Dataset _data = null!;
    private readonly RecommendationOptions _options = new();

    [Params("S", "L")]
    public string Size { get; set; } = "S";

    private SimilarityParts _first = null!;

    [GlobalSetup]
    public void Setup()
    {
        _data = EngineData.Create(Size);
        _first = GlobalModelBuilder.BuildSimilarities(_data, _options, EngineData.Now);
    }

    [Benchmark]
    public GlobalModel FullBuild() => GlobalModelBuilder.Build(_data, _options, EngineData.Now);

    /// <summary>
    /// The similarities job's later builds: the search's choices kept and the embedding fit started from the first
    /// build's vectors (<see cref="KeptSimilaritiesCold"/>: the same with a cold fit).
    /// </summary>
    [Benchmark]
    public SimilarityParts KeptSimilarities() => GlobalModelBuilder.BuildSimilarities(_data, _options, EngineData.Now, _first.Choices, _first.Factors);

    [Benchmark]
    public SimilarityParts KeptSimilaritiesCold() => GlobalModelBuilder.BuildSimilarities(_data, _options, EngineData.Now, _first.Choices);

    [Benchmark]
    public PopularityModel Popularity() => PopularityBuilder.BuildPopularity(_data, _options, EngineData.Now);

    [Benchmark]
    public ItemNeighborModel ItemNeighbors() => ItemNeighborBuilder.Build(_data, _options, EngineData.Now);

    [Benchmark]
    public UserNeighborModel UserNeighbors() => UserModelBuilder.BuildNeighbors(_data, _options, EngineData.Now);

    [Benchmark]
    public ProfileModel Profiles() => UserModelBuilder.BuildProfiles(_data, _options, EngineData.Now);
}
