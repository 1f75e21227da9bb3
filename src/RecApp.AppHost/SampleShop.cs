using System.Text.Json;

namespace RecApp.AppHost;

/// <summary>
/// The optional source (main) database, switched by <c>Parameters:source-database</c>: <c>off</c> (the default: one
/// database, <c>recdb</c>) or <c>sample</c>: a second database <c>maindb</c> on the same PostgreSQL server holding the
/// sample shop (<c>samples/shop/sample-shop.sql</c>, created by the migration step through <c>maindb-owner</c>), which
/// the Refresher and the API read as the SELECT-only role <c>shop_reader</c> through the mapping in
/// <c>samples/shop/mapping.json</c>. The Refresher then loads no demo data: the shop is the data.
/// </summary>
public sealed record SampleShop(
    IResourceBuilder<IResourceWithConnectionString> Owner,
    IResourceBuilder<IResourceWithConnectionString> Reader,
    IReadOnlyDictionary<string, string> Mapping)
{
    public const string SwitchKey = "Parameters:source-database";
    public const string DatabaseName = "maindb";

    /// <summary>The connection the migration step creates the sample with (the server's owner).</summary>
    public const string OwnerConnectionName = "maindb-owner";

    /// <summary>The role the sample script creates: SELECT on the shop's tables, nothing else (a sample's password).</summary>
    public const string ReaderRole = "shop_reader";
    private const string ReaderPassword = "shop-reader";

    /// <summary>Null when the switch is <c>off</c>.</summary>
    public static SampleShop? AddIfEnabled(IDistributedApplicationBuilder builder, Infrastructure infrastructure)
    {
        var setting = builder.Configuration[SwitchKey] ?? "off";
        if (string.Equals(setting, "off", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        if (!string.Equals(setting, "sample", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"{SwitchKey} is '{setting}'; expected 'off' or 'sample'.");
        }

        var server = infrastructure.DatabaseServer.Resource;
        var owner = builder.AddConnectionString(OwnerConnectionName,
            ReferenceExpression.Create($"{(IResourceWithConnectionString)server};Database={DatabaseName}"));
        var endpoint = server switch
        {
            LocalPostgresResource local => (Host: local.Endpoint.Property(EndpointProperty.IPV4Host), Port: local.Endpoint.Property(EndpointProperty.Port)),
            PostgresServerResource container => (Host: container.PrimaryEndpoint.Property(EndpointProperty.Host), Port: container.PrimaryEndpoint.Property(EndpointProperty.Port)),
            _ => throw new InvalidOperationException($"No sample shop for a database server of type {server.GetType().Name}."),
        };
        var reader = builder.AddConnectionString(DatabaseName, ReferenceExpression.Create(
            $"Host={endpoint.Host};Port={endpoint.Port};Username={ReaderRole};Password={ReaderPassword};Database={DatabaseName}"));
        return new SampleShop(owner, reader, ReadMapping(builder));
    }

    /// <summary><c>samples/shop/mapping.json</c> as environment variables (<c>SourceDatabase__ItemsQuery</c>, …).</summary>
    private static Dictionary<string, string> ReadMapping(IDistributedApplicationBuilder builder)
    {
        var path = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", "..", "samples", "shop", "mapping.json"));
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("SourceDatabase").EnumerateObject()
            .ToDictionary(setting => $"SourceDatabase__{setting.Name}", setting => setting.Value.GetString()!);
    }
}

public static class SampleShopResourceBuilderExtensions
{
    /// <summary>The shop's read-only connection (<c>ConnectionStrings__maindb</c>) and its mapping, when the sample is on.</summary>
    public static IResourceBuilder<ProjectResource> WithSourceDatabase(this IResourceBuilder<ProjectResource> project, SampleShop? shop)
    {
        if (shop is null)
        {
            return project;
        }
        project.WithReference(shop.Reader, SampleShop.DatabaseName);
        foreach (var (name, value) in shop.Mapping)
        {
            project.WithEnvironment(name, value);
        }
        return project;
    }
}
