using RecApp.Recommendations.Data;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNpgsqlDataSource("recdb", critical: false); // cached answers keep flowing while the database is down
builder.AddNpgsqlDbContext<RecDbContext>();
builder.AddRedisClient("redis");
builder.Services.AddDatabaseMigrations();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();

/// <summary>Entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
