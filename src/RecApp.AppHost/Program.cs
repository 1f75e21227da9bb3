// RecApp AppHost, written against Aspire 13.1.3 (Aspire.AppHost.Sdk and Aspire.Hosting.* 13.1.3).
// Checked call by call against the dotnet/aspire (now microsoft/aspire) sources: the public API listings
// (src/*/api/*.cs) and implementations of Aspire.Hosting, Aspire.Hosting.PostgreSQL and Aspire.Hosting.Redis, and the
// 13.0 starter template. No copy tagged v13.1.3 was readable, so each signature was compared in a 9.x and a 13.5 copy
// (identical in both); WithoutHttpsCertificate, new in 13.0, only against the Aspire docs and 13.1-era issues.
// Not built here: the Aspire packages are not in the offline feed and there is no Docker (README.md, "Running with Aspire").

var builder = DistributedApplication.CreateBuilder(args);

// The data volume outlives runs; the generated password lives in this project's user secrets, so it still opens.
var recdb = builder.AddPostgres("postgres")
    .WithDataVolume()
    .AddDatabase("recdb");

// The shared L2 cache: no volume, it refills from the database. Plain TCP, as in ./dev.sh run: since 13.1 Aspire
// serves Redis over TLS with the developer certificate, which the StackExchange.Redis 1.2.6 client would have to trust.
#pragma warning disable ASPIRECERTIFICATES001 // experimental certificate API
var redis = builder.AddRedis("redis")
    .WithoutHttpsCertificate();
#pragma warning restore ASPIRECERTIFICATES001

var popularItemsMinutes = ParameterWithDefault("popular-items-refresh-minutes", "15");
var userProfilesMinutes = ParameterWithDefault("user-profiles-refresh-minutes", "30");
var similaritiesMinutes = ParameterWithDefault("similarities-refresh-minutes", "60");
var cacheCleanupHours = ParameterWithDefault("cache-cleanup-hours", "6");
var adminApiKey = builder.AddParameter("admin-api-key", secret: true);

builder.AddProject<Projects.RecApp_Refresher>("refresher")
    .WithReference(recdb).WaitFor(recdb)
    .WithReference(redis).WaitFor(redis)
    .WithEnvironment("POPULAR_ITEMS_REFRESH_MINUTES", popularItemsMinutes)
    .WithEnvironment("USER_PROFILES_REFRESH_MINUTES", userProfilesMinutes)
    .WithEnvironment("SIMILARITIES_REFRESH_MINUTES", similaritiesMinutes)
    .WithEnvironment("CACHE_CLEANUP_HOURS", cacheCleanupHours);

// Two replicas behind Aspire's proxy: the two-layer cache has to stay correct across instances.
builder.AddProject<Projects.RecApp_Api>("api")
    .WithExternalHttpEndpoints()
    .WithReplicas(2)
    .WithHttpHealthCheck("/health")
    .WithReference(recdb).WaitFor(recdb)
    .WithReference(redis).WaitFor(redis)
    .WithEnvironment("Admin__ApiKey", adminApiKey);

builder.Build().Run();

// A parameter with a default: AddParameter(name, value) alone would ignore Parameters:{name} in configuration,
// so the configured value (appsettings, user secrets, Parameters__{name}) is read first.
IResourceBuilder<ParameterResource> ParameterWithDefault(string name, string defaultValue) =>
    builder.AddParameter(name, builder.Configuration[$"Parameters:{name}"] ?? defaultValue,
        publishValueAsDefault: true);
