/**
 * Outgoing Bot Framework credentials for tests: botbuilder would fetch a token from Microsoft's identity
 * service for every call to the connector, which no machine here can reach. These sign nothing.
 */
import { ServiceClientCredentialsFactory, type ServiceClientCredentials } from 'botframework-connector';

export class TestCredentialsFactory extends ServiceClientCredentialsFactory {
  constructor(private readonly appId: string) {
    super();
  }

  async isValidAppId(appId: string): Promise<boolean> {
    return appId === this.appId;
  }

  async isAuthenticationDisabled(): Promise<boolean> {
    return false;
  }

  async createCredentials(): Promise<ServiceClientCredentials> {
    return { signRequest: async (request) => request };
  }
}
