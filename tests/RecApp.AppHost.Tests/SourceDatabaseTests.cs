using System.Text;
using System.Text.Json;

namespace RecApp.AppHost.Tests;

/// <summary>The AppHost with <c>Parameters:source-database=sample</c>: the sample shop as the read-only main database.</summary>
public sealed class SampleShopApplication : RunningApplication
{
    protected override IEnumerable<string> ExtraArguments => ["--Parameters:source-database=sample"];
}

[CollectionDefinition(Name)]
public sealed class SampleShopApplicationCollection : ICollectionFixture<SampleShopApplication>
{
    public const string Name = "sample shop application";
}

[Collection(SampleShopApplicationCollection.Name)]
public sealed class SourceDatabaseTests(SampleShopApplication application)
{
    [Fact]
    public async Task The_api_serves_the_sample_shop_read_through_its_mapping()
    {
        using var client = application.ClientFor(application.ApiReplicas[0]);

        using var health = await ApiJson.ReadAsync(await client.GetAsync("/health"));
        using var stats = await ApiJson.ReadAsync(await client.GetAsync("/stats"));
        using var popular = await ApiJson.ReadAsync(await client.PostAsync("/popular", new StringContent("""
            {"user_params": {"gender": "f", "age": "25-34", "category": "electronics", "geo_id": 213},
             "filters": {"price_from": 500, "price_to": 2000}}
            """, Encoding.UTF8, "application/json")));

        Assert.Equal("Healthy", health.RootElement.GetProperty("entries").GetProperty("maindb").GetProperty("status").GetString());
        var data = stats.RootElement.GetProperty("data");
        Assert.Equal(("maindb", 200, 300), (data.GetProperty("source").GetString(), data.GetProperty("items").GetInt64(), data.GetProperty("users").GetInt64()));
        var items = popular.RootElement.GetProperty("items").Deserialize<long[]>()!;
        Assert.NotEmpty(items);
        Assert.All(items, id => Assert.InRange(id, 1001, 1200)); // the shop's product ids: no demo data was loaded
    }
}
