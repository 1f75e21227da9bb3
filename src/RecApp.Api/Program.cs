using RecApp.Api;
using RecApp.Api.Admin;
using RecApp.Api.Catalog;
using RecApp.Api.Console;
using RecApp.Api.Experiments;
using RecApp.Api.Interactions;
using RecApp.Api.Recommendations;
using RecApp.Api.Stats;
using RecApp.Api.Validation;
using RecApp.Api.Caching;
using RecApp.Engine.Domain;
using RecApp.Data;
using RecApp.Data.Migrations;
using RecApp.Data.Source;
using RecApp.ServiceDefaults;

// A bad setting stops start-up with its name on stderr and exit code 2, not an unhandled-exception abort.
try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddServiceDefaults();
    builder.AddPostgresDataSource("recdb", critical: false); // cached answers keep flowing while the database is down
    builder.AddDatabaseTimeouts(); // every request-path wait on PostgreSQL is short and bounded
    if (builder.AddOptionalReadOnlyPostgresDataSource(SourceDatabaseOptions.ConnectionName)) // the shop's database, read-only
    {
        builder.Services.AddSourceDatabase();
    }
    builder.AddRedisConnection("redis");
    builder.AddRecommendationCache();
    builder.AddApiEdge();
    builder.AddAdmin();
    builder.AddRecommendations();
    builder.AddExperiments();
    builder.AddCatalog();
    builder.AddInteractions();
    builder.AddStats();
    builder.AddConsole();

    var app = builder.Build();

    app.UseApiEdge();
    app.MapDefaultEndpoints();
    app.MapRecommendationEndpoints();
    app.MapInteractionEndpoints();
    app.MapCatalogEndpoints();
    app.MapStatsEndpoints();
    app.MapAdminEndpoints();
    app.MapExperimentEndpoints();
    app.MapConsole();
    app.MapApiDocs();

    app.Run();
    return 0;
}
catch (Exception exception) when (ConfigurationError.Describe(exception) is { } error)
{
    return ConfigurationError.Exit(error);
}

/// <summary>Entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
