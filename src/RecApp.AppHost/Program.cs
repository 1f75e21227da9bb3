// RecApp's application model (Aspire 13.6). Infrastructure.cs decides how PostgreSQL and Redis are supplied
// (containers, or local processes when no container runtime answers: LocalInfrastructure.cs); everything below is
// the same either way, and the services receive ConnectionStrings__recdb and ConnectionStrings__redis.
using RecApp.AppHost;

var builder = DistributedApplication.CreateBuilder(args);

var infrastructure = Infrastructure.Add(builder);
// Parameters:source-database = sample: a second database with a sample shop, read-only to RecApp (SampleShop.cs).
var shop = SampleShop.AddIfEnabled(builder, infrastructure);

var popularItemsMinutes = ParameterWithDefault("popular-items-refresh-minutes", "15");
var userProfilesMinutes = ParameterWithDefault("user-profiles-refresh-minutes", "30");
var similaritiesMinutes = ParameterWithDefault("similarities-refresh-minutes", "60");
var cacheCleanupHours = ParameterWithDefault("cache-cleanup-hours", "6");
var demoDataSize = ParameterWithDefault("demo-data-size", "S");
// Generated on the first run and kept in the AppHost's user secrets, so a fresh clone starts without a prompt.
var adminApiKey = builder.AddParameter("admin-api-key",
    new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);

// Schema migration as its own step: it runs once, and the services start only after it exited with 0.
var migrations = builder.AddProject<Projects.RecApp_MigrationService>("migrations")
    .WithReference(infrastructure.Database, Infrastructure.DatabaseName)
    .WaitFor(infrastructure.DatabaseServer);
if (shop is not null)
{
    migrations.WithReference(shop.Owner, SampleShop.OwnerConnectionName); // creates the sample shop once
}

builder.AddProject<Projects.RecApp_Refresher>("refresher")
    .WithInfrastructure(infrastructure)
    .WaitForCompletion(migrations)
    .WithEnvironment("POPULAR_ITEMS_REFRESH_MINUTES", popularItemsMinutes)
    .WithEnvironment("USER_PROFILES_REFRESH_MINUTES", userProfilesMinutes)
    .WithEnvironment("SIMILARITIES_REFRESH_MINUTES", similaritiesMinutes)
    .WithEnvironment("CACHE_CLEANUP_HOURS", cacheCleanupHours)
    .WithSourceDatabase(shop)
    // The demo data would be events in recdb, mixed into the shop's: with a source database the shop is the data.
    .WithEnvironment("Refresher__LoadDemoDataWhenEmpty", shop is null ? "true" : "false")
    .WithEnvironment("Refresher__DemoDataSize", demoDataSize);

// Two replicas behind Aspire's proxy (the cache has to stay correct across instances). In run mode the proxy listens on
// 5080, the port of the API's http launch profile (stated here too), so the API has the same address with and without
// the AppHost. Not when publishing: azd maps an external http binding to the main ingress (80/443) only if it names no
// port, and refuses one that does.
builder.AddProject<Projects.RecApp_Api>("api")
    .WithReplicas(2)
    .WithEndpoint("http", endpoint =>
    {
        if (builder.ExecutionContext.IsRunMode)
        {
            endpoint.Port = 5080;
        }
    }, createIfNotExists: false)
    .WithExternalHttpEndpoints()
    // The operator console is served by the API: a link of its own on the api resource in the dashboard.
    .WithUrlForEndpoint("http", _ => new ResourceUrlAnnotation { Url = "/console/", DisplayText = "Console" })
    .WithHttpHealthCheck("/health")
    .WithInfrastructure(infrastructure)
    .WithSourceDatabase(shop)
    .WaitForCompletion(migrations)
    .WithEnvironment("Admin__ApiKey", adminApiKey);

builder.Build().Run();

// A parameter with a default: AddParameter(name, value) alone would ignore Parameters:{name} in configuration,
// so the configured value (appsettings, user secrets, Parameters__{name}) is read first.
IResourceBuilder<ParameterResource> ParameterWithDefault(string name, string defaultValue) =>
    builder.AddParameter(name, builder.Configuration[$"Parameters:{name}"] ?? defaultValue,
        publishValueAsDefault: true);
