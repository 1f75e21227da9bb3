using RecApp.Api.Admin;
using RecApp.Api.Catalog;
using RecApp.Api.Interactions;
using RecApp.Api.Recommendations;
using RecApp.Api.Stats;
using RecApp.Api.Validation;
using RecApp.Caching;
using RecApp.Recommendations.Data;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNpgsqlDataSource("recdb", critical: false); // cached answers keep flowing while the database is down
builder.AddNpgsqlDbContext<RecDbContext>();
builder.AddRedisClient("redis");
builder.AddRedisHybridCache();
builder.AddApiEdge();
builder.AddRecommendations();
builder.AddCatalog();
builder.AddInteractions();
builder.AddStats();

var app = builder.Build();

app.UseApiEdge();
app.MapDefaultEndpoints();
app.MapRecommendationEndpoints();
app.MapInteractionEndpoints();
app.MapCatalogEndpoints();
app.MapStatsEndpoints();
app.MapAdminEndpoints();
app.MapApiDocs();

app.Run();

/// <summary>Entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
