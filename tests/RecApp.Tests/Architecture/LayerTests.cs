using Assembly = System.Reflection.Assembly;
using ArchUnitNET.Fluent.Slices;
using ArchUnitNET.Loader;
using ArchUnitNET.xUnitV3;
using Npgsql;
using static ArchUnitNET.Fluent.ArchRuleDefinition;
using ArchitectureModel = ArchUnitNET.Domain.Architecture;

namespace RecApp.Tests.Architecture;

/// <summary>
/// The layers, as docs/ARCHITECTURE.md draws them: the engine is pure (no database, hosting or HTTP), the data project
/// owns every SQL statement, the two services compose both and do not know each other, and no project's namespaces
/// depend on each other in a circle. Pure: reads the compiled assemblies.
/// </summary>
public sealed class LayerTests
{
    private static readonly Assembly Engine = typeof(RecApp.Engine.RecommendationOptions).Assembly;
    private static readonly Assembly Data = typeof(RecApp.Data.RedisNames).Assembly;
    private static readonly Assembly Api = typeof(RecApp.Api.ApiOptions).Assembly;
    private static readonly Assembly Refresher = typeof(RecApp.Refresher.Worker.RefresherOptions).Assembly;
    private static readonly Assembly ServiceDefaults = typeof(RecApp.ServiceDefaults.ContractEnvironmentNames).Assembly;

    private static readonly Lazy<ArchitectureModel> s_architecture = new(() =>
        new ArchLoader().LoadAssemblies(Engine, Data, Api, Refresher, ServiceDefaults, typeof(NpgsqlCommand).Assembly).Build());

    public static TheoryData<string, string[]> Forbidden => new()
    {
        {
            "RecApp.Engine",
            ["RecApp.Data", "RecApp.Api", "RecApp.Refresher", "RecApp.ServiceDefaults", "Npgsql", "StackExchange.Redis",
             "Microsoft.AspNetCore", "Microsoft.Extensions.Hosting", "Microsoft.Extensions.Http", "System.Net.Http", "Microsoft.ML"]
        },
        { "RecApp.Data", ["RecApp.Api", "RecApp.Refresher", "Microsoft.AspNetCore", "Microsoft.Extensions.Hosting", "System.Net.Http", "Microsoft.ML"] },
        { "RecApp.Api", ["RecApp.Refresher", "Microsoft.ML"] },
        { "RecApp.Refresher", ["RecApp.Api", "Microsoft.AspNetCore", "Microsoft.ML"] },
    };

    [Theory]
    [MemberData(nameof(Forbidden))]
    public void A_layer_references_no_assembly_above_it_or_beside_it(string assembly, string[] forbidden)
    {
        var referenced = new[] { Engine, Data, Api, Refresher }.Single(a => a.GetName().Name == assembly)
            .GetReferencedAssemblies().Select(a => a.Name!).ToArray();
        Assert.NotEmpty(referenced);
        var violations = referenced.Where(name => forbidden.Any(prefix => name == prefix || name.StartsWith(prefix + ".", StringComparison.Ordinal)));
        Assert.Empty(violations);
    }

    [Theory]
    [InlineData("RecApp.Engine")]
    [InlineData("RecApp.Data")]
    [InlineData("RecApp.Refresher")]
    public void No_namespace_of_a_project_depends_on_another_in_a_circle(string root) =>
        SliceRuleDefinition.Slices().Matching(root + ".(*)").Should().BeFreeOfCycles().Check(s_architecture.Value);

    [Fact]
    public void Only_the_data_project_sends_SQL()
    {
        // Two exceptions in the service defaults: the PostgreSQL health probe (SELECT 1), and the client registration,
        // which names command types only to configure their tracing.
        var commands = Types().That().ResideInNamespace("Npgsql").And()
            .Are(typeof(NpgsqlCommand), typeof(NpgsqlBatch), typeof(NpgsqlBinaryImporter), typeof(NpgsqlBinaryExporter));
        Types().That().ResideInAssembly(Engine, Api, Refresher, ServiceDefaults).And().DoNotHaveName("PostgresHealthCheck")
            .And().AreNot(typeof(RecApp.ServiceDefaults.DependencyClients))
            .Should().NotDependOnAny(commands)
            .Check(s_architecture.Value);
    }
}
